package signing

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(ExpiresLayout, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The two worked examples of spec §9.1, computed there with Zaqar's own function and openssl.
func TestSignWorkedExamples(t *testing.T) {
	tests := []struct {
		name      string
		grant     URLGrant
		canonical string
		signature string
	}{
		{
			name: "one path, two methods, project",
			grant: URLGrant{
				Paths:   []string{"/v2/queues/fizbit/messages"},
				Methods: []string{"POST", "GET"},
				Project: "7e7b1ee1b1e445e6bc79ab3e76c4e6c3",
				Expires: time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC),
			},
			canonical: `/v2/queues/fizbit/messages\nGET,POST\n7e7b1ee1b1e445e6bc79ab3e76c4e6c3\n2099-12-31T23:59:59`,
			signature: "570f25a4008b45ec380945e5e0de63efbd5c7e39a6ccbad45698bce8bea956d8",
		},
		{
			name: "two paths, default method, no project",
			grant: URLGrant{
				Paths:   []string{"/v2/queues/fizbit/messages", "/v2/queues/fizbit/claims"},
				Methods: []string{"GET"},
				Expires: time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC),
			},
			canonical: `/v2/queues/fizbit/claims,/v2/queues/fizbit/messages\nGET\nNone\n2099-12-31T23:59:59`,
			signature: "66cfe0997f40b6e6da62ed74825450f1104b1c3a4928032dfd5ceeb7423976ef",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CanonicalString(tc.grant); got != tc.canonical {
				t.Fatalf("canonical string\n got %q\nwant %q", got, tc.canonical)
			}
			if got := Sign([]byte("test-secret"), tc.grant); got != tc.signature {
				t.Fatalf("Sign = %s, want %s", got, tc.signature)
			}
			ring, err := NewKeyRing(URLKey{ID: "k1", Secret: []byte("test-secret")})
			if err != nil {
				t.Fatal(err)
			}
			signed, err := ring.Sign(tc.grant)
			if err != nil {
				t.Fatal(err)
			}
			if signed.Signature != tc.signature || signed.KeyID != "k1" {
				t.Fatalf("KeyRing.Sign = %s by %s, want %s by k1", signed.Signature, signed.KeyID, tc.signature)
			}
		})
	}
}

// The spec's counter-example: real newlines as separators give a169e5..., which Zaqar never accepts.
func TestSignUsesLiteralBackslashN(t *testing.T) {
	g := URLGrant{
		Paths:   []string{"/v2/queues/fizbit/messages"},
		Methods: []string{"POST", "GET"},
		Project: "7e7b1ee1b1e445e6bc79ab3e76c4e6c3",
		Expires: time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC),
	}
	const wrong = "a169e5388602c9884b139e5068d50f28c0474fb6ad584e4707b2d8cf7e9d2b6f"
	if got := Sign([]byte("test-secret"), g); got == wrong {
		t.Fatal("signature built with real newlines")
	}
	canonical := CanonicalString(g)
	if strings.Contains(canonical, "\n") || strings.Count(canonical, `\n`) != 3 || len(canonical) != 91 {
		t.Fatalf("canonical string %q: want 91 bytes with three literal \\n separators", canonical)
	}
}

func TestCanonicalStringDoesNotReorderCaller(t *testing.T) {
	g := URLGrant{Paths: []string{"/b", "/a"}, Methods: []string{"POST", "GET"}, Expires: time.Unix(0, 0)}
	_ = CanonicalString(g)
	if g.Paths[0] != "/b" || g.Methods[0] != "POST" {
		t.Fatal("CanonicalString sorted the caller's slices")
	}
}

// §9.1's normalisation examples all sign like the plain form.
func TestExpiryNormalisationSignsIdentically(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	base := URLGrant{Paths: []string{"/v2/queues/fizbit/messages"}, Methods: []string{"GET", "POST"},
		Project: "7e7b1ee1b1e445e6bc79ab3e76c4e6c3"}
	for _, tc := range []struct{ in, want string }{
		{"2099-12-31T23:59:59Z", "2099-12-31T23:59:59"},
		{"2099-12-31T23:59:59.999", "2099-12-31T23:59:59"},
		{"2099-12-31T23:59:59", "2099-12-31T23:59:59"},
		{"2099-01-01T00:00:00+02:00", "2098-12-31T22:00:00"},
		{"2099-12-31", "2099-12-31T00:00:00"},
	} {
		exp, err := ParseExpires(tc.in, now)
		if err != nil {
			t.Fatalf("ParseExpires(%q): %v", tc.in, err)
		}
		if got := FormatExpires(exp); got != tc.want {
			t.Fatalf("ParseExpires(%q) formats as %s, want %s", tc.in, got, tc.want)
		}
		g := base
		g.Expires = exp
		w := base
		w.Expires = mustTime(t, tc.want)
		if Sign([]byte("test-secret"), g) != Sign([]byte("test-secret"), w) {
			t.Fatalf("%q does not sign like %s", tc.in, tc.want)
		}
	}
}

// Expectations produced with Zaqar 15's create_signed_url expiry handling (Python int() check, iso8601 1.x
// parse_date, oslo normalize_time, strftime) at now = 2026-11-21T12:00:00 UTC.
func TestParseExpiresMatchesZaqar(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in       string
		want     string
		kind     error
		wantText string
	}{
		{"2099-12-31T23:59:59", "2099-12-31T23:59:59", nil, ""},
		{"2099-12-31T23:59:59Z", "2099-12-31T23:59:59", nil, ""},
		{"2099-12-31T23:59:59.999", "2099-12-31T23:59:59", nil, ""},
		{"2099-01-01T00:00:00+02:00", "2098-12-31T22:00:00", nil, ""},
		{"2099-12-31", "2099-12-31T00:00:00", nil, ""},
		{"2099-12-31T23:59:59.999999999", "2099-12-31T23:59:59", nil, ""},
		{"2099-12-31T23:59:59,5", "2099-12-31T23:59:59", nil, ""},
		{"2099-12-31 23:59:59", "2099-12-31T23:59:59", nil, ""},
		{"2099-12-31T23:59", "2099-12-31T23:59:00", nil, ""},
		{"2099-12-31T23", "2099-12-31T23:00:00", nil, ""},
		{"2099-12-31T235959", "2099-12-31T23:59:59", nil, ""},
		{"20991231T235959", "2099-12-31T23:59:59", nil, ""},
		{"2099-12", "2099-12-01T00:00:00", nil, ""},
		{"2099-1-5", "2099-01-05T00:00:00", nil, ""},
		{"2099-123", "2099-01-23T00:00:00", nil, ""},
		{"2099-12-31T235", "2099-12-31T23:00:05", nil, ""},
		{"2099-12-31T23595", "2099-12-31T23:59:05", nil, ""},
		{"2099-12-31T23:59:59-0130", "2100-01-01T01:29:59", nil, ""},
		{"2099-12-31T23:59:59+05", "2099-12-31T18:59:59", nil, ""},
		{"2099-12-31T23:59:59\n", "2099-12-31T23:59:59", nil, ""},
		{"2099-12-31T23:59:59 ", "", ErrExpiresUnparsable, "Unable to parse date string '2099-12-31T23:59:59 '"},
		{"2099", "", ErrExpiresInteger, "`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: 2099"},
		{"209912", "", ErrExpiresInteger, "`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: 209912"},
		{"000000", "", ErrExpiresUnparsable, "Unable to parse date string '000000'"},
		{"0", "", ErrExpiresUnparsable, "Unable to parse date string '0'"},
		{"-0", "", ErrExpiresUnparsable, "Unable to parse date string '-0'"},
		{" 00 ", "", ErrExpiresUnparsable, "Unable to parse date string ' 00 '"},
		{"0000", "", ErrExpiresUnparsable, "year 0 is out of range"},
		{"12", "", ErrExpiresInteger, "`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: 12"},
		{"-5", "", ErrExpiresInteger, "`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: -5"},
		{"+7", "", ErrExpiresInteger, "`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: 7"},
		{" 1_000 ", "", ErrExpiresInteger, "`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: 1000"},
		{"1__0", "", ErrExpiresUnparsable, "Unable to parse date string '1__0'"},
		{"_1", "", ErrExpiresUnparsable, "Unable to parse date string '_1'"},
		{"1_", "", ErrExpiresUnparsable, "Unable to parse date string '1_'"},
		{"١٢", "", ErrExpiresInteger, "`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: 12"},
		{"０", "", ErrExpiresUnparsable, "Unable to parse date string '０'"},
		{"", "", ErrExpiresUnparsable, "Unable to parse date string ''"},
		{"x", "", ErrExpiresUnparsable, "Unable to parse date string 'x'"},
		{"2099-13-01", "", ErrExpiresUnparsable, "month must be in 1..12"},
		{"2099-02-29", "", ErrExpiresUnparsable, "day is out of range for month"},
		{"2096-02-29", "2096-02-29T00:00:00", nil, ""},
		{"2099-12-32", "", ErrExpiresUnparsable, "day is out of range for month"},
		{"2099-12-31T24:00:00", "", ErrExpiresUnparsable, "hour must be in 0..23"},
		{"2099-12-31T23:60:00", "", ErrExpiresUnparsable, "minute must be in 0..59"},
		{"2099-12-31T23:59:60", "", ErrExpiresUnparsable, "second must be in 0..59"},
		{"2099-12-31T23:59:59+24:00", "", ErrExpiresUnparsable, "offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24), not datetime.timedelta(days=1)."},
		{"2099-12-31T23:59:59-25:30", "", ErrExpiresUnparsable, "offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24), not datetime.timedelta(days=-2, seconds=81000)."},
		{"2099-12-31T23:59:59+99:99", "", ErrExpiresUnparsable, "offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24), not datetime.timedelta(days=4, seconds=16740)."},
		{"2099-12-31T23:59:59+23:99", "", ErrExpiresUnparsable, "offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24), not datetime.timedelta(days=1, seconds=2340)."},
		{"9999-12-31T23:00:00-02:00", "", ErrExpiresUnparsable, "date value out of range"},
		{"0001-01-01T00:00:00+01:00", "", ErrExpiresUnparsable, "date value out of range"},
		{"2026-11-21T12:00:00", "", ErrExpiresPast, "`expires` is lower than the current time"},
		{"2026-11-21T12:00:00.000001", "2026-11-21T12:00:00", nil, ""},
		{"2026-11-21T11:59:59", "", ErrExpiresPast, "`expires` is lower than the current time"},
		{"2026-11-21T12:00:01", "2026-11-21T12:00:01", nil, ""},
		{"2026-11-21T13:00:00+01:00", "", ErrExpiresPast, "`expires` is lower than the current time"},
		{"2026-11-21T13:00:01+01:00", "2026-11-21T12:00:01", nil, ""},
		{"it's", "", ErrExpiresUnparsable, "Unable to parse date string \"it's\""},
		{"a\"b", "", ErrExpiresUnparsable, "Unable to parse date string 'a\"b'"},
		{"tab\there", "", ErrExpiresUnparsable, "Unable to parse date string 'tab\\there'"},
		{"é", "", ErrExpiresUnparsable, "Unable to parse date string 'é'"},
		{"2099-12-31t23:59:59", "", ErrExpiresUnparsable, "Unable to parse date string '2099-12-31t23:59:59'"},
		{"2099-12-31T23:59:59z", "", ErrExpiresUnparsable, "Unable to parse date string '2099-12-31T23:59:59z'"},
		{"2099-12-31T23:59:59 +01:00", "", ErrExpiresUnparsable, "Unable to parse date string '2099-12-31T23:59:59 +01:00'"},
		{"2099-12-31T23:59:59.+01:00", "", ErrExpiresUnparsable, "Unable to parse date string '2099-12-31T23:59:59.+01:00'"},
		{"2099-12-31T23:59:59.5Z", "2099-12-31T23:59:59", nil, ""},
		{"2099/12/31", "", ErrExpiresUnparsable, "Unable to parse date string '2099/12/31'"},
		{" 2099-12-31", "", ErrExpiresUnparsable, "Unable to parse date string ' 2099-12-31'"},
		{"2099-12-31T23:59:59\n\n", "", ErrExpiresUnparsable, "Unable to parse date string '2099-12-31T23:59:59\\n\\n'"},
		{"0000-01-01", "", ErrExpiresUnparsable, "year 0 is out of range"},
		{"1e5", "", ErrExpiresUnparsable, "Unable to parse date string '1e5'"},
		{"0x10", "", ErrExpiresUnparsable, "Unable to parse date string '0x10'"},
		{"2099-W01", "", ErrExpiresUnparsable, "Unable to parse date string '2099-W01'"},
	}
	for _, tc := range tests {
		got, err := ParseExpires(tc.in, now)
		if tc.kind == nil {
			if err != nil {
				t.Errorf("ParseExpires(%q): %v", tc.in, err)
				continue
			}
			if s := FormatExpires(got); s != tc.want {
				t.Errorf("ParseExpires(%q) = %s, want %s", tc.in, s, tc.want)
			}
			if got.Location() != time.UTC || got.Nanosecond() != 0 {
				t.Errorf("ParseExpires(%q) = %v, want whole seconds in UTC", tc.in, got)
			}
			continue
		}
		var ve *ValidationError
		if !errors.Is(err, tc.kind) || !errors.As(err, &ve) {
			t.Errorf("ParseExpires(%q) error = %v, want kind %v", tc.in, err, tc.kind)
			continue
		}
		if ve.Text != tc.wantText {
			t.Errorf("ParseExpires(%q) text\n got %q\nwant %q", tc.in, ve.Text, tc.wantText)
		}
	}
}

func TestFormatExpires(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2099, 12, 31, 23, 59, 59, 999999999, time.UTC), "2099-12-31T23:59:59"},
		{time.Date(2099, 1, 1, 0, 0, 0, 0, time.FixedZone("+02", 7200)), "2098-12-31T22:00:00"},
		{time.Date(5, 3, 4, 5, 6, 7, 0, time.UTC), "0005-03-04T05:06:07"},
	} {
		if got := FormatExpires(tc.in); got != tc.want {
			t.Errorf("FormatExpires(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestNewKeyRingRejects(t *testing.T) {
	k := func(id, s string) URLKey { return URLKey{ID: id, Secret: []byte(s)} }
	many := make([]URLKey, MaxURLKeys)
	for i := range many {
		many[i] = k(strings.Repeat("x", i+1), "s")
	}
	for name, build := range map[string]func() (*KeyRing, error){
		"empty id":      func() (*KeyRing, error) { return NewKeyRing(k("", "s")) },
		"empty secret":  func() (*KeyRing, error) { return NewKeyRing(k("a", "")) },
		"duplicate id":  func() (*KeyRing, error) { return NewKeyRing(k("a", "s"), k("a", "t")) },
		"too many keys": func() (*KeyRing, error) { return NewKeyRing(k("p", "s"), many...) },
	} {
		if _, err := build(); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: err = %v, want ErrInvalidKey", name, err)
		}
	}
	ring, err := NewKeyRing(k("new", "s2"), k("old", "s1"))
	if err != nil {
		t.Fatal(err)
	}
	if ring.PrimaryID() != "new" || strings.Join(ring.IDs(), ",") != "new,old" {
		t.Fatalf("ids = %v, primary %s", ring.IDs(), ring.PrimaryID())
	}
}

func TestKeyRingSignChecksGrant(t *testing.T) {
	ring, _ := NewKeyRing(URLKey{ID: "k", Secret: []byte("s")})
	exp := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		g    URLGrant
		kind error
	}{
		"no paths":           {URLGrant{Expires: exp}, ErrPathsNotList},
		"empty path":         {URLGrant{Paths: []string{""}, Expires: exp}, ErrInvalidPaths},
		"comma in path":      {URLGrant{Paths: []string{"/a,/b"}, Expires: exp}, ErrInvalidPaths},
		"backslash in path":  {URLGrant{Paths: []string{`/a\n`}, Expires: exp}, ErrInvalidPaths},
		"empty method":       {URLGrant{Paths: []string{"/a"}, Methods: []string{""}, Expires: exp}, ErrMethodsInvalid},
		"backslash method":   {URLGrant{Paths: []string{"/a"}, Methods: []string{`GET\nx`}, Expires: exp}, ErrMethodsInvalid},
		"comma in method":    {URLGrant{Paths: []string{"/a"}, Methods: []string{"GET,POST"}, Expires: exp}, ErrMethodsInvalid},
		"zero expiry":        {URLGrant{Paths: []string{"/a"}}, ErrExpiresUnparsable},
		"expiry beyond 9999": {URLGrant{Paths: []string{"/a"}, Expires: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrExpiresUnparsable},
	} {
		if _, err := ring.Sign(tc.g); !errors.Is(err, tc.kind) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.kind)
		}
	}
	var none *KeyRing
	_, err := none.Sign(URLGrant{Paths: []string{"/a"}, Expires: exp})
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrKeyMissing) || ve.Text != "The `key` can't be None" {
		t.Fatalf("nil ring: err = %v", err)
	}
	s, err := ring.Sign(URLGrant{Paths: []string{"/a"}, Expires: exp.Add(1500 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Methods) != 1 || s.Methods[0] != "GET" || !s.Expires.Equal(exp.Add(time.Second)) {
		t.Fatalf("defaults: methods %v expires %v", s.Methods, s.Expires)
	}
}

func TestSignedURLJSONAndCredentials(t *testing.T) {
	ring, _ := NewKeyRing(URLKey{ID: "k", Secret: []byte("test-secret")})
	s, err := ring.Sign(URLGrant{
		Paths:   []string{"/v2/queues/shq/messages", "/v2/queues/shq/claims"},
		Methods: []string{"POST", "GET"},
		Project: "proj-1",
		Expires: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	body, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"paths":["/v2/queues/shq/claims","/v2/queues/shq/messages"],"methods":["GET","POST"],` +
		`"project":"proj-1","expires":"2099-01-01T00:00:00","signature":"` + s.Signature + `"}`
	if string(body) != want {
		t.Fatalf("json\n got %s\nwant %s", body, want)
	}
	s.Project = ""
	body, _ = s.MarshalJSON()
	if !strings.Contains(string(body), `"project":null`) {
		t.Fatalf("no project must be null: %s", body)
	}
	c := s.Credentials()
	if c.Methods != "GET,POST" || c.Paths != "/v2/queues/shq/claims,/v2/queues/shq/messages" ||
		c.Expires != "2099-01-01T00:00:00" || c.Signature != s.Signature || !c.Present {
		t.Fatalf("credentials = %+v", c)
	}
	q := s.Query()
	if q.Get(QuerySignature) != s.Signature || q.Get(QueryMethods) != "GET,POST" {
		t.Fatalf("query = %v", q)
	}
}

func TestFingerprintStableAndNotTheSignature(t *testing.T) {
	sig := "570f25a4008b45ec380945e5e0de63efbd5c7e39a6ccbad45698bce8bea956d8"
	a, b := Fingerprint(sig), Fingerprint(sig)
	if a != b || len(a) != 64 || strings.Contains(a, sig[:16]) {
		t.Fatalf("fingerprint %s / %s", a, b)
	}
	if Fingerprint(sig[:63]+"9") == a {
		t.Fatal("different signatures share a fingerprint")
	}
}
