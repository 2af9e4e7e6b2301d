package fetch

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/mmcdole/gofeed"
)

// Legacy-encoded samples, written out byte by byte so that the tests do not
// trust the same library the code uses to decode them.
var (
	cp1251Privet = "\xCF\xF0\xE8\xE2\xE5\xF2" // "Привет" in windows-1251
	koi8rPrivet  = "\xF0\xD2\xC9\xD7\xC5\xD4" // "Привет" in KOI8-R
	latin1Cafe   = "Caf\xE9 Z\xFCrich"        // "Café Zürich" in ISO-8859-1
	sjisNihongo  = "\x93\xFA\x96\x7B\x8C\xEA" // "日本語" in Shift_JIS
)

// utf16Bytes encodes s as UTF-16 in the given byte order, without a BOM.
func utf16Bytes(s string, bigEndian bool) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

// utf32Bytes encodes s as UTF-32 in the given byte order, without a BOM.
func utf32Bytes(s string, bigEndian bool) []byte {
	var out []byte
	for _, r := range s {
		if bigEndian {
			out = append(out, byte(r>>24), byte(r>>16), byte(r>>8), byte(r))
		} else {
			out = append(out, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
		}
	}
	return out
}

func TestDetectEncoding(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		contentType string
		wantName    string
		wantSource  encodingSource
		wantBOM     int
		wantUnknown []string
	}{
		{name: "nothing declared", body: "<rss/>", wantName: "utf-8", wantSource: fromDefault},
		{name: "empty body", body: "", wantName: "utf-8", wantSource: fromDefault},
		{name: "header", body: "<rss/>", contentType: "application/rss+xml; charset=windows-1251", wantName: "windows-1251", wantSource: fromHeader},
		{name: "header label in upper case and quoted", body: "<rss/>", contentType: `text/xml; charset="KOI8-R"`, wantName: "koi8-r", wantSource: fromHeader},
		{name: "header with trailing semicolon", body: "<rss/>", contentType: "text/xml; charset=Shift_JIS;", wantName: "shift_jis", wantSource: fromHeader},
		{name: "ISO-8859-1 is read as its superset windows-1252", body: "<rss/>", contentType: "text/xml; charset=iso-8859-1", wantName: "windows-1252", wantSource: fromHeader},
		{name: "prolog double quotes", body: `<?xml version="1.0" encoding="windows-1251"?><rss/>`, wantName: "windows-1251", wantSource: fromProlog},
		{name: "prolog single quotes", body: `<?xml version='1.0' encoding='koi8-r'?><rss/>`, wantName: "koi8-r", wantSource: fromProlog},
		{name: "prolog spaces around equals", body: "<?xml version = \"1.0\"\n\tencoding = \"Shift_JIS\" ?><rss/>", wantName: "shift_jis", wantSource: fromProlog},
		{name: "prolog after leading white space", body: "\r\n  <?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss/>", wantName: "windows-1252", wantSource: fromProlog},
		{name: "prolog in upper case", body: `<?XML VERSION="1.0" ENCODING="KOI8-R"?><rss/>`, wantName: "koi8-r", wantSource: fromProlog},
		{name: "prolog with standalone after encoding", body: `<?xml version="1.0" encoding="windows-1251" standalone="yes"?><rss/>`, wantName: "windows-1251", wantSource: fromProlog},
		{name: "prolog without encoding", body: `<?xml version="1.0" standalone="yes"?><rss/>`, wantName: "utf-8", wantSource: fromDefault},
		{name: "prolog says utf-8", body: `<?xml version="1.0" encoding="utf-8"?><rss/>`, wantName: "utf-8", wantSource: fromProlog},
		{name: "stylesheet instruction is not a prolog", body: `<?xml-stylesheet href="a.xsl" encoding="koi8-r"?><rss/>`, wantName: "utf-8", wantSource: fromDefault},
		{name: "encoding in a later instruction is ignored", body: `<?xml version="1.0"?><?pi encoding="koi8-r"?><rss/>`, wantName: "utf-8", wantSource: fromDefault},
		{name: "encoding in the document is ignored", body: `<rss encoding="koi8-r"/>`, wantName: "utf-8", wantSource: fromDefault},
		{name: "unterminated prolog", body: `<?xml version="1.0" encoding="koi8-r"`, wantName: "utf-8", wantSource: fromDefault},
		{name: "unterminated value", body: `<?xml version="1.0" encoding="koi8-r?><rss/>`, wantName: "utf-8", wantSource: fromDefault},
		{name: "prolog longer than the search window", body: `<?xml version="1.0"` + strings.Repeat(" ", maxDeclLen) + `encoding="koi8-r"?><rss/>`, wantName: "utf-8", wantSource: fromDefault},
		{name: "ASCII-readable prolog claiming utf-16 is utf-8", body: `<?xml version="1.0" encoding="UTF-16"?><rss/>`, wantName: "utf-8", wantSource: fromProlog},
		{name: "header wins over prolog", body: `<?xml version="1.0" encoding="koi8-r"?><rss/>`, contentType: "text/xml; charset=windows-1251", wantName: "windows-1251", wantSource: fromHeader},
		{name: "utf-8 header wins over prolog", body: `<?xml version="1.0" encoding="windows-1251"?><rss/>`, contentType: "text/xml; charset=utf-8", wantName: "utf-8", wantSource: fromHeader},
		{name: "unknown header falls through to prolog", body: `<?xml version="1.0" encoding="koi8-r"?><rss/>`, contentType: "text/xml; charset=x-klingon", wantName: "koi8-r", wantSource: fromProlog, wantUnknown: []string{"x-klingon"}},
		{name: "unknown prolog", body: `<?xml version="1.0" encoding="x-klingon"?><rss/>`, wantName: "utf-8", wantSource: fromUnknown, wantUnknown: []string{"x-klingon"}},
		{name: "unknown header and unknown prolog", body: `<?xml version="1.0" encoding="x-vulcan"?><rss/>`, contentType: "text/xml; charset=x-klingon", wantName: "utf-8", wantSource: fromUnknown, wantUnknown: []string{"x-klingon", "x-vulcan"}},
		{name: "utf-8 BOM", body: "\xEF\xBB\xBF<rss/>", wantName: "utf-8", wantSource: fromBOM, wantBOM: 3},
		{name: "utf-16le BOM", body: "\xFF\xFE<\x00r\x00", wantName: "utf-16le", wantSource: fromBOM, wantBOM: 2},
		{name: "utf-16be BOM", body: "\xFE\xFF\x00<\x00r", wantName: "utf-16be", wantSource: fromBOM, wantBOM: 2},
		{name: "BOM wins over header", body: "\xEF\xBB\xBF<rss/>", contentType: "text/xml; charset=iso-8859-1", wantName: "utf-8", wantSource: fromBOM, wantBOM: 3},
		{name: "BOM wins over prolog", body: "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"koi8-r\"?><rss/>", wantName: "utf-8", wantSource: fromBOM, wantBOM: 3},
		{name: "utf-32be BOM", body: "\x00\x00\xFE\xFF\x00\x00\x00<", wantName: "utf-32be", wantSource: fromBOM, wantBOM: 4},
		{name: "utf-32le BOM is not utf-16le", body: "\xFF\xFE\x00\x00<\x00\x00\x00", wantName: "utf-32le", wantSource: fromBOM, wantBOM: 4},
		{name: "utf-32be without BOM", body: string(utf32Bytes(`<rss/>`, true)), wantName: "utf-32be", wantSource: fromProlog},
		{name: "utf-32le without BOM", body: string(utf32Bytes(`<?xml version="1.0"?><rss/>`, false)), wantName: "utf-32le", wantSource: fromProlog},
		{name: "utf-32 in header", body: string(utf32Bytes(`<rss/>`, true)), contentType: "text/xml; charset=UTF-32", wantName: "utf-32be", wantSource: fromHeader},
		{name: "ASCII-readable prolog claiming utf-32 is utf-8", body: `<?xml version="1.0" encoding="UTF-32"?><rss/>`, wantName: "utf-8", wantSource: fromProlog},
		{name: "utf-16le without BOM", body: string(utf16Bytes(`<?xml version="1.0"?><rss/>`, false)), wantName: "utf-16le", wantSource: fromProlog},
		{name: "utf-16be without BOM", body: string(utf16Bytes(`<?xml version="1.0"?><rss/>`, true)), wantName: "utf-16be", wantSource: fromProlog},
		{name: "HTML meta charset", body: `<!DOCTYPE html><html><head><meta charset="windows-1251"><title>x</title>`, contentType: "text/html", wantName: "windows-1251", wantSource: fromMeta},
		{name: "HTML meta http-equiv", body: `<html><head><META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=Shift_JIS">`, contentType: "text/html", wantName: "shift_jis", wantSource: fromMeta},
		{name: "HTML meta sniffed without media type", body: "\n<!doctype HTML><meta charset=koi8-r>", wantName: "koi8-r", wantSource: fromMeta},
		{name: "HTML meta content without http-equiv is ignored", body: `<html><meta content="text/html; charset=koi8-r">`, contentType: "text/html", wantName: "utf-8", wantSource: fromDefault},
		{name: "HTML meta after 1024 bytes is ignored", body: "<html>" + strings.Repeat(" ", 1024) + `<meta charset="koi8-r">`, contentType: "text/html", wantName: "utf-8", wantSource: fromDefault},
		{name: "HTML meta claiming utf-16 is utf-8", body: `<html><meta charset="utf-16">`, contentType: "text/html", wantName: "utf-8", wantSource: fromMeta},
		{name: "HTML header wins over meta", body: `<html><meta charset="koi8-r">`, contentType: "text/html; charset=windows-1251", wantName: "windows-1251", wantSource: fromHeader},
		{name: "meta in a feed is not read", body: `<rss><description><![CDATA[<meta charset="koi8-r">]]></description></rss>`, contentType: "application/rss+xml", wantName: "utf-8", wantSource: fromDefault},
		{name: "JSON", body: `{"version":"https://jsonfeed.org/version/1.1"}`, contentType: "application/feed+json", wantName: "utf-8", wantSource: fromJSON},
		{name: "JSON sniffed from text/plain", body: ` {"title":"x"}`, contentType: "text/plain", wantName: "utf-8", wantSource: fromJSON},
		{name: "JSON ignores a wrong charset on valid UTF-8", body: `{"title":"Привет"}`, contentType: "application/json; charset=iso-8859-1", wantName: "utf-8", wantSource: fromJSON},
		{name: "JSON honours a charset on invalid UTF-8", body: `{"title":"` + cp1251Privet + `"}`, contentType: "application/json; charset=windows-1251", wantName: "windows-1251", wantSource: fromHeader},
		{name: "JSON with BOM", body: "\xEF\xBB\xBF{}", contentType: "application/json", wantName: "utf-8", wantSource: fromBOM, wantBOM: 3},
		{name: "XML served as JSON is still XML", body: `<?xml version="1.0" encoding="koi8-r"?><rss/>`, contentType: "application/json", wantName: "koi8-r", wantSource: fromProlog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := detectEncoding([]byte(tt.body), tt.contentType)
			if got.name != tt.wantName || got.source != tt.wantSource || got.bom != tt.wantBOM {
				t.Errorf("detectEncoding = {name %q, source %q, bom %d}, want {%q, %q, %d}",
					got.name, got.source, got.bom, tt.wantName, tt.wantSource, tt.wantBOM)
			}
			if (got.enc == nil) != (tt.wantName == "utf-8") {
				t.Errorf("decoder present = %v for %q", got.enc != nil, got.name)
			}
			if !slices.Equal(got.unknown, tt.wantUnknown) {
				t.Errorf("unknown = %q, want %q", got.unknown, tt.wantUnknown)
			}
		})
	}
}

// TestDetectEncodingNeverPanics runs the detection on every prefix of tricky
// inputs: a truncated body must never index past its end.
func TestDetectEncodingNeverPanics(t *testing.T) {
	inputs := []string{
		"\xEF\xBB\xBF<?xml version='1.0' encoding='koi8-r' ?><rss/>",
		"  <?XML Encoding = \"x\"  ?>",
		"<?xml encoding=\"\"?>",
		"<?xml =\"a\"?>",
		"<?xml a\"b\"?>",
		string(utf16Bytes(`<?xml version="1.0"?>`, true)),
		"\x00\x00\xFE\xFF" + string(utf32Bytes(`<?xml version="1.0"?>`, true)),
		string(utf32Bytes(`<?xml version="1.0"?>`, false)),
		`<!doctype html><meta http-equiv="content-type" content="charset=koi8-r">`,
		`{"a":"` + cp1251Privet + `"}`,
	}
	for _, in := range inputs {
		for i := range len(in) + 1 {
			for _, ct := range []string{"", "text/html", "text/xml; charset=", "application/json; charset=koi8-r"} {
				toUTF8([]byte(in[:i]), ct)
			}
		}
	}
}

func TestFindXMLEncoding(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // "" means not found
	}{
		{name: "plain", body: `<?xml version="1.0" encoding="UTF-8"?>`, want: "UTF-8"},
		{name: "spaces inside the quotes are trimmed", body: `<?xml version="1.0" encoding=" koi8-r "?>`, want: "koi8-r"},
		{name: "empty value", body: `<?xml version="1.0" encoding=""?>`},
		{name: "blank value", body: `<?xml version="1.0" encoding="  "?>`},
		{name: "missing equals", body: `<?xml version="1.0" encoding "x"?>`},
		{name: "unquoted", body: `<?xml version="1.0" encoding=koi8-r?>`},
		{name: "mismatched quotes", body: `<?xml version="1.0" encoding="koi8-r'?>`},
		{name: "just the target", body: `<?xml?>`},
		{name: "too short", body: `<?xm`},
		{name: "nothing", body: ``},
		{name: "comment first", body: `<!-- x --><?xml version="1.0" encoding="koi8-r"?>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end, ok := findXMLEncoding([]byte(tt.body))
			got := ""
			if ok {
				got = tt.body[start:end]
			}
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("findXMLEncoding(%q) = %q, %v; want %q", tt.body, got, ok, tt.want)
			}
		})
	}
}

func TestToUTF8(t *testing.T) {
	const (
		privet  = "Привет"
		cafe    = "Café Zürich"
		nihongo = "日本語"
	)
	rss := func(prolog, title string) string {
		decl := `<?xml version="1.0"?>`
		if prolog != "" {
			decl = `<?xml version="1.0" encoding="` + prolog + `"?>`
		}
		return decl + "\n<rss version=\"2.0\"><channel><title>" + title + "</title></channel></rss>"
	}
	tests := []struct {
		name        string
		body        string
		contentType string
		want        string
	}{
		{name: "windows-1251 in header", body: rss("", cp1251Privet), contentType: "text/xml; charset=windows-1251", want: rss("", privet)},
		{name: "windows-1251 in prolog", body: rss("windows-1251", cp1251Privet), contentType: "text/xml", want: rss("UTF-8", privet)},
		{name: "windows-1251 in header, KOI8-R in prolog", body: rss("KOI8-R", cp1251Privet), contentType: "text/xml; charset=windows-1251", want: rss("UTF-8", privet)},
		{name: "KOI8-R in header", body: rss("", koi8rPrivet), contentType: "application/rss+xml; charset=KOI8-R", want: rss("", privet)},
		{name: "KOI8-R in prolog", body: rss("koi8-r", koi8rPrivet), want: rss("UTF-8", privet)},
		{name: "KOI8-R in header, windows-1251 in prolog", body: rss("windows-1251", koi8rPrivet), contentType: "text/xml; charset=koi8-r", want: rss("UTF-8", privet)},
		{name: "ISO-8859-1 in header", body: rss("", latin1Cafe), contentType: "text/xml; charset=ISO-8859-1", want: rss("", cafe)},
		{name: "ISO-8859-1 in prolog", body: rss("ISO-8859-1", latin1Cafe), want: rss("UTF-8", cafe)},
		{name: "ISO-8859-1 in header, Shift_JIS in prolog", body: rss("Shift_JIS", latin1Cafe), contentType: "text/xml; charset=iso-8859-1", want: rss("UTF-8", cafe)},
		{name: "Shift_JIS in header", body: rss("", sjisNihongo), contentType: "text/xml; charset=Shift_JIS", want: rss("", nihongo)},
		{name: "Shift_JIS in prolog", body: rss("shift_jis", sjisNihongo), want: rss("UTF-8", nihongo)},
		{name: "Shift_JIS in header, ISO-8859-1 in prolog", body: rss("ISO-8859-1", sjisNihongo), contentType: "text/xml; charset=Shift_JIS", want: rss("UTF-8", nihongo)},
		{name: "utf-8 header over a lying prolog", body: rss("windows-1251", privet), contentType: "text/xml; charset=utf-8", want: rss("UTF-8", privet)},
		{name: "utf-8 BOM is stripped", body: "\xEF\xBB\xBF" + rss("utf-8", privet), want: rss("utf-8", privet)},
		{name: "utf-16le with BOM", body: "\xFF\xFE" + string(utf16Bytes(rss("UTF-16", privet), false)), want: rss("UTF-8", privet)},
		{name: "utf-16be without BOM", body: string(utf16Bytes(rss("UTF-16", nihongo), true)), want: rss("UTF-8", nihongo)},
		{name: "utf-32be with BOM", body: "\x00\x00\xFE\xFF" + string(utf32Bytes(rss("UTF-32", nihongo), true)), want: rss("UTF-8", nihongo)},
		{name: "utf-32le without BOM", body: string(utf32Bytes(rss("ISO-10646-UCS-4", privet+" 🙂"), false)), want: rss("UTF-8", privet+" 🙂")},
		{name: "HTML meta", body: `<html><head><meta charset="koi8-r"><title>` + koi8rPrivet + `</title>`, contentType: "text/html", want: `<html><head><meta charset="koi8-r"><title>` + privet + `</title>`},
		{name: "JSON with BOM", body: "\xEF\xBB\xBF" + `{"title":"` + nihongo + `"}`, contentType: "application/feed+json", want: `{"title":"` + nihongo + `"}`},
		{name: "invalid UTF-8 becomes U+FFFD, not a rejected feed", body: rss("", "bad \xFF byte"), want: rss("", "bad \uFFFD byte")},
		{name: "unknown charset keeps bytes and prolog", body: rss("x-klingon", cp1251Privet), want: rss("x-klingon", cp1251Privet)},
		{name: "unknown header, known prolog", body: rss("windows-1251", cp1251Privet), contentType: "text/xml; charset=x-klingon", want: rss("UTF-8", privet)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, te := toUTF8([]byte(tt.body), tt.contentType)
			if string(got) != tt.want {
				t.Errorf("toUTF8 = %q, want %q (decided by %s as %s)", got, tt.want, te.source, te.name)
			}
			if te.err != nil {
				t.Errorf("conversion error: %v", te.err)
			}
			if exported := ToUTF8([]byte(tt.body), tt.contentType); string(exported) != string(got) {
				t.Errorf("ToUTF8 = %q, differs from toUTF8 = %q", exported, got)
			}
		})
	}
}

// TestConvertedXMLParsesOnce pins what toUTF8 relies on in gofeed: it
// converts by the XML declaration, so a converted body must say UTF-8 there,
// or its text would be decoded twice.
func TestConvertedXMLParsesOnce(t *testing.T) {
	body := `<?xml version="1.0" encoding="windows-1251"?>` +
		`<rss version="2.0"><channel><title>` + cp1251Privet + `</title></channel></rss>`

	t.Run("gofeed honours the prolog", func(t *testing.T) {
		f, err := gofeed.NewParser().Parse(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if f.Title != "Привет" {
			t.Errorf("title = %q, want Привет", f.Title)
		}
	})
	t.Run("converted body parses to the same text", func(t *testing.T) {
		converted, _ := toUTF8([]byte(body), "text/xml; charset=windows-1251")
		f, err := gofeed.NewParser().Parse(bytes.NewReader(converted))
		if err != nil {
			t.Fatal(err)
		}
		if f.Title != "Привет" {
			t.Errorf("title = %q, want Привет", f.Title)
		}
	})
}

func TestCharsetParam(t *testing.T) {
	tests := []struct {
		name, contentType, want string
	}{
		{name: "none", contentType: "text/xml", want: ""},
		{name: "plain", contentType: "text/xml; charset=utf-8", want: "utf-8"},
		{name: "quoted", contentType: `text/xml; charset="koi8-r"`, want: "koi8-r"},
		{name: "upper-case name", contentType: "text/xml; CHARSET=koi8-r", want: "koi8-r"},
		{name: "trailing semicolon", contentType: "text/xml; charset=koi8-r;", want: "koi8-r"},
		{name: "duplicate parameter", contentType: "text/xml; charset=koi8-r; charset=utf-8", want: "koi8-r"},
		{name: "empty", contentType: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := charsetParam(tt.contentType); got != tt.want {
				t.Errorf("charsetParam(%q) = %q, want %q", tt.contentType, got, tt.want)
			}
		})
	}
}

func BenchmarkToUTF8(b *testing.B) {
	item := "<item><title>" + cp1251Privet + "</title><description>" + strings.Repeat(cp1251Privet+" ", 200) + "</description></item>"
	body := []byte(`<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel>` +
		strings.Repeat(item, 50) + "</channel></rss>")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		toUTF8(body, "application/rss+xml")
	}
}
