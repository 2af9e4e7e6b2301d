package fetch

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// fakeResolver returns a resolver that answers from names (host name to
// addresses) in memory, over a net.Pipe: no query leaves the process, so a
// test can make any name resolve to a loopback address, or fail. Names not
// in the map do not exist (NXDOMAIN).
func fakeResolver(t *testing.T, names map[string][]string) *net.Resolver {
	t.Helper()
	table := make(map[string][]netip.Addr)
	for name, addrs := range names {
		key := strings.ToLower(strings.TrimSuffix(name, ".")) + "."
		for _, a := range addrs {
			table[key] = append(table[key], netip.MustParseAddr(a))
		}
	}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			client, server := net.Pipe()
			go serveDNS(server, table)
			return client, nil
		},
	}
}

// serveDNS answers DNS queries on conn, a stream (a net.Pipe is not a
// PacketConn, so the Go resolver frames messages as over TCP), until the
// resolver closes it.
func serveDNS(conn net.Conn, table map[string][]netip.Addr) {
	defer conn.Close()
	for {
		var size [2]byte
		if _, err := io.ReadFull(conn, size[:]); err != nil {
			return
		}
		query := make([]byte, binary.BigEndian.Uint16(size[:]))
		if _, err := io.ReadFull(conn, query); err != nil {
			return
		}
		answer, err := dnsAnswer(query, table)
		if err != nil {
			return
		}
		framed := binary.BigEndian.AppendUint16(nil, uint16(len(answer)))
		if _, err := conn.Write(append(framed, answer...)); err != nil {
			return
		}
	}
}

func dnsAnswer(query []byte, table map[string][]netip.Addr) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	resp := dnsmessage.Message{
		Header: dnsmessage.Header{
			ID: h.ID, Response: true, Authoritative: true,
			RecursionDesired: h.RecursionDesired, RecursionAvailable: true,
		},
		Questions: []dnsmessage.Question{q},
	}
	addrs, ok := table[strings.ToLower(q.Name.String())]
	if !ok {
		resp.Header.RCode = dnsmessage.RCodeNameError
	}
	for _, a := range addrs {
		rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
		switch {
		case q.Type == dnsmessage.TypeA && a.Is4():
			rh.Type = dnsmessage.TypeA
			resp.Answers = append(resp.Answers, dnsmessage.Resource{Header: rh, Body: &dnsmessage.AResource{A: a.As4()}})
		case q.Type == dnsmessage.TypeAAAA && a.Is6():
			rh.Type = dnsmessage.TypeAAAA
			resp.Answers = append(resp.Answers, dnsmessage.Resource{Header: rh, Body: &dnsmessage.AAAAResource{AAAA: a.As16()}})
		}
	}
	return resp.Pack()
}

func TestFakeResolver(t *testing.T) {
	r := fakeResolver(t, map[string][]string{"feed.test": {"127.0.0.1", "::1"}})
	got, err := r.LookupNetIP(t.Context(), "ip", "feed.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("feed.test resolves to %v, want 127.0.0.1 and ::1", got)
	}
	if _, err := r.LookupNetIP(t.Context(), "ip", "missing.test"); err == nil || !strings.Contains(err.Error(), "no such host") {
		t.Errorf("missing.test: %v, want no such host", err)
	}
}
