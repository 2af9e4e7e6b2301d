package normalize

import (
	"reflect"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// TestHints reads what feeds say about how often to fetch them, and
// ignores what cannot be used.
func TestHints(t *testing.T) {
	const (
		rssOpen  = `<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>t</title>`
		rssClose = `<item><title>x</title></item></channel></rss>`
	)
	day := 24 * time.Hour
	tests := []struct {
		name string
		body string
		want Hints
	}{
		{"none", rssOpen + rssClose, Hints{}},
		{"ttl", rssOpen + `<ttl> 60 </ttl>` + rssClose, Hints{TTL: time.Hour}},
		{"ttl zero", rssOpen + `<ttl>0</ttl>` + rssClose, Hints{}},
		{"ttl negative", rssOpen + `<ttl>-5</ttl>` + rssClose, Hints{}},
		{"ttl not a number", rssOpen + `<ttl>1h</ttl>` + rssClose, Hints{}},
		{"ttl fractional", rssOpen + `<ttl>1.5</ttl>` + rssClose, Hints{}},
		{"ttl huge", rssOpen + `<ttl>9999999999999999</ttl>` + rssClose, Hints{TTL: maxHint}},
		{"ttl beyond int64", rssOpen + `<ttl>99999999999999999999999</ttl>` + rssClose, Hints{TTL: maxHint}},
		{
			"skip hours",
			rssOpen + `<skipHours><hour>23</hour><hour>0</hour><hour> 5 </hour><hour>24</hour><hour>25</hour><hour>-1</hour><hour>x</hour><hour>5</hour></skipHours>` + rssClose,
			Hints{SkipHours: []int{0, 5, 23}},
		},
		{
			"skip days",
			rssOpen + `<skipDays><day>Saturday</day><day>sunday</day><day> MONDAY </day><day>Caturday</day><day>Sunday</day></skipDays>` + rssClose,
			Hints{SkipDays: []time.Weekday{time.Sunday, time.Monday, time.Saturday}},
		},
		{"sy hourly", rssOpen + `<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>1</sy:updateFrequency>` + rssClose, Hints{UpdatePeriod: time.Hour}},
		{"sy daily twice", rssOpen + `<sy:updatePeriod> Daily </sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>` + rssClose, Hints{UpdatePeriod: 12 * time.Hour}},
		{"sy weekly", rssOpen + `<sy:updatePeriod>weekly</sy:updatePeriod>` + rssClose, Hints{UpdatePeriod: 7 * day}},
		{"sy monthly", rssOpen + `<sy:updatePeriod>monthly</sy:updatePeriod>` + rssClose, Hints{UpdatePeriod: 30 * day}},
		{"sy yearly", rssOpen + `<sy:updatePeriod>yearly</sy:updatePeriod><sy:updateFrequency>365</sy:updateFrequency>` + rssClose, Hints{UpdatePeriod: day}},
		{"sy frequency only", rssOpen + `<sy:updateFrequency>4</sy:updateFrequency>` + rssClose, Hints{UpdatePeriod: 6 * time.Hour}},
		{"sy bad frequency", rssOpen + `<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>0</sy:updateFrequency>` + rssClose, Hints{UpdatePeriod: time.Hour}},
		{"sy unknown period", rssOpen + `<sy:updatePeriod>fortnightly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>` + rssClose, Hints{}},
		{"sy lower-case names", rssOpen + `<sy:updateperiod>hourly</sy:updateperiod><sy:updatefrequency>2</sy:updatefrequency>` + rssClose, Hints{UpdatePeriod: 30 * time.Minute}},
		{
			"sy under another prefix",
			`<rss version="2.0" xmlns:syn="http://purl.org/rss/1.0/modules/syndication/"><channel><syn:updatePeriod>hourly</syn:updatePeriod>` + rssClose,
			Hints{UpdatePeriod: time.Hour},
		},
		{
			"rss 1.0",
			`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel rdf:about="https://a.example/"><title>t</title><link>https://a.example/</link><sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>3</sy:updateFrequency></channel><item rdf:about="https://a.example/1"><title>x</title><link>https://a.example/1</link></item></rdf:RDF>`,
			Hints{UpdatePeriod: 20 * time.Minute},
		},
		{
			"atom with sy",
			`<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><title>t</title><sy:updatePeriod>daily</sy:updatePeriod><entry><id>1</id><title>x</title></entry></feed>`,
			Hints{UpdatePeriod: day},
		},
		{
			"everything",
			rssOpen + `<ttl>30</ttl><skipHours><hour>1</hour></skipHours><skipDays><day>Sunday</day></skipDays><sy:updatePeriod>hourly</sy:updatePeriod>` + rssClose,
			Hints{TTL: 30 * time.Minute, SkipHours: []int{1}, SkipDays: []time.Weekday{time.Sunday}, UpdatePeriod: time.Hour},
		},
		{"json feed", `{"version":"https://jsonfeed.org/version/1.1","title":"t","ttl":60,"items":[]}`, Hints{}},
	}
	n := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := n.Normalize(feed.Source{Name: "s"}, []byte(tt.body), "https://a.example/feed", testNow)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Hints, tt.want) {
				t.Errorf("Hints = %+v, want %+v", got.Hints, tt.want)
			}
			if got.Hints.IsZero() != reflect.DeepEqual(tt.want, Hints{}) {
				t.Errorf("IsZero = %v for %+v", got.Hints.IsZero(), got.Hints)
			}
		})
	}
}
