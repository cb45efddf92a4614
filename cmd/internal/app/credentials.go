package app

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/signing/revoke"
)

// The operator's credential commands: sign (a signed URL), token (a JWT) and revoke. They read the same
// configuration as serve (embedded defaults < -config file < environment) and work offline: sign and token
// need only the keys, revoke writes the revocation list (the file, or with store kind redis the shared list in
// Redis), which every running zedge on it picks up within auth.revocations.poll_interval.

// errUsage marks a command-line mistake (exit status 2) as opposed to a failure (status 1).
var errUsage = errors.New("usage")

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// toolCommand runs one credential command: it parses args with fs (which gets -config), loads the
// configuration and calls run.
func toolCommand(name string, args []string, stdout, stderr io.Writer, env LookupEnv, fs *flag.FlagSet,
	run func(cfg Config, fs *flag.FlagSet) error) int {
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "YAML configuration `file` (the same as serve's)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "zedge %s: unexpected arguments %q\n", name, fs.Args())
		return ExitUsage
	}
	cfg, err := Load(*configFile, env)
	if err != nil {
		fmt.Fprintf(stderr, "zedge %s: %s\n", name, strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return ExitFailure
	}
	if err := run(cfg, fs); err != nil {
		fmt.Fprintf(stderr, "zedge %s: %s\n", name, strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		if errors.Is(err, errUsage) {
			return ExitUsage
		}
		return ExitFailure
	}
	return ExitOK
}

// signMethods are the methods zedge sign grants: the API's methods.
var signMethods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

func signCommand(args []string, stdout, stderr io.Writer, env LookupEnv) int {
	fs := flag.NewFlagSet("zedge sign", flag.ContinueOnError)
	queue := fs.String("queue", "", "queue the URL is for (required)")
	project := fs.String("project", "", "project (X-Project-ID) the URL is for (required)")
	methods := fs.String("methods", "GET", "comma-separated HTTP methods to grant")
	paths := fs.String("paths", signing.ShareMessages, "comma-separated paths: messages, subscriptions, claims, or full paths under /v2/queues/QUEUE/")
	expires := fs.String("expires", signing.DefaultExpiry.String(), "lifetime (1h, 30m) or an ISO 8601 UTC expiry (2026-12-01T00:00:00)")
	base := fs.String("url", "", "base URL of the server in the printed URL and curl line (default: from http.addr)")
	asJSON := fs.Bool("json", false, "print the share endpoint's JSON answer instead")
	return toolCommand("sign", args, stdout, stderr, env, fs, func(cfg Config, fs *flag.FlagSet) error {
		now := time.Now()
		if !broker.ValidQueueName(*queue) {
			return usageErr("-queue %q: want 1 to 64 characters of letters, digits, _ and -", *queue)
		}
		if *project == "" || !broker.ValidProjectID(*project) {
			return usageErr("-project %q: want a project id of 1 to 256 characters", *project)
		}
		g := signing.URLGrant{Project: *project}
		for _, m := range strings.Split(*methods, ",") {
			m = strings.ToUpper(strings.TrimSpace(m))
			if !slices.Contains(signMethods, m) {
				return usageErr("-methods: %q is not one of %s", m, strings.Join(signMethods, ", "))
			}
			g.Methods = append(g.Methods, m)
		}
		for _, p := range strings.Split(*paths, ",") {
			p = strings.TrimSpace(p)
			if strings.HasPrefix(p, "/") {
				// A full path must stay within the queue, as the share endpoint's grants do.
				if !strings.HasPrefix(p, "/v2/queues/"+*queue+"/") {
					return usageErr("-paths: %q is not under /v2/queues/%s/", p, *queue)
				}
				g.Paths = append(g.Paths, p)
				continue
			}
			full, err := signing.ExpandSharePaths(*queue, []string{p})
			if err != nil {
				return usageErr("-paths: %v", err)
			}
			g.Paths = append(g.Paths, full...)
		}
		var err error
		if g.Expires, err = parseExpiry(*expires, now); err != nil {
			return usageErr("-expires: %v", err)
		}
		if !g.Expires.After(now) {
			return usageErr("-expires %q is not in the future", *expires)
		}
		ring, err := cfg.Signing.KeyRing()
		if err != nil {
			return err
		}
		if ring == nil {
			return fmt.Errorf("no URL-signing key: set %s or signing.url_keys", EnvSigningKey)
		}
		su, err := ring.Sign(g)
		if err != nil {
			return usageErr("%v", err)
		}
		if *asJSON {
			out, err := su.MarshalJSON()
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s\n", out)
			return nil
		}
		baseURL, err := serverURL(*base, cfg.HTTP.Addr)
		if err != nil {
			return err
		}
		printSignedURL(stdout, su, baseURL)
		return nil
	})
}

// parseExpiry reads a lifetime (a Go duration) or an absolute expiry in Zaqar's ISO 8601 forms.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("%q is not a positive duration", s)
		}
		return now.Add(d).UTC().Truncate(time.Second), nil
	}
	t, err := signing.ParseExpires(s, time.Time{})
	if err != nil {
		var ve *signing.ValidationError
		if errors.As(err, &ve) {
			return time.Time{}, errors.New(ve.Text)
		}
		return time.Time{}, err
	}
	return t, nil
}

// serverURL is the base URL for printed commands: -url, or http.addr with a wildcard host made loopback.
func serverURL(flagURL, addr string) (string, error) {
	if flagURL != "" {
		u, err := url.Parse(flagURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", usageErr("-url %q: want http://host:port", flagURL)
		}
		return strings.TrimRight(flagURL, "/"), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port == "0" {
		return "", usageErr("http.addr %q has no fixed port; pass -url", addr)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// printSignedURL prints the query form (one URL a device can be given, the project in it), the header form,
// and a curl command line that uses the query form.
func printSignedURL(w io.Writer, su signing.SignedURL, base string) {
	c := su.Credentials()
	path := su.Paths[0]
	for _, p := range su.Paths {
		if strings.HasSuffix(p, "/"+signing.ShareMessages) {
			path = p
			break
		}
	}
	q := su.Query()
	q.Set("project", su.Project)
	full := base + path + "?" + q.Encode()

	fmt.Fprintf(w, "# A signed URL for %s on %s in project %s, valid until %s UTC.\n",
		strings.Join(su.Methods, ", "), strings.Join(su.Paths, ", "), su.Project, c.Expires)
	fmt.Fprintf(w, "# Anyone holding it has that access: hand it over like a password.\n\n")
	fmt.Fprintf(w, "# Query form (zedge): one URL; send a Client-ID header with it.\n")
	fmt.Fprintf(w, "url: %s\n\n", full)
	fmt.Fprintf(w, "# Header form (Zaqar's, e.g. python-zaqarclient's signed-url backend), with any Client-ID:\n")
	fmt.Fprintf(w, "URL-Signature: %s\nURL-Expires: %s\nURL-Methods: %s\nURL-Paths: %s\nX-Project-ID: %s\n\n",
		c.Signature, c.Expires, c.Methods, c.Paths, su.Project)

	method := su.Methods[0]
	if slices.Contains(su.Methods, "POST") {
		method = "POST"
	}
	fmt.Fprintf(w, "# Example:\n")
	line := fmt.Sprintf("curl -sS -X %s -H 'Client-ID: %s'", method, newUUID())
	if method == "POST" || method == "PUT" || method == "PATCH" {
		line += " -H 'Content-Type: application/json' -d @reading.json"
	}
	fmt.Fprintf(w, "%s '%s'\n", line, full)
}

// newUUID is a random (version 4) UUID for the example's Client-ID.
func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}

func tokenCommand(args []string, stdout, stderr io.Writer, env LookupEnv) int {
	fs := flag.NewFlagSet("zedge token", flag.ContinueOnError)
	sub := fs.String("sub", "", "subject: the user or device id (required)")
	project := fs.String("project", "", "project the token is valid for (required; admins may act in any)")
	roles := fs.String("roles", signing.RoleMember, "comma-separated roles: admin, member, device")
	ttl := fs.Duration("ttl", 0, "lifetime (default: signing.token.ttl)")
	queues := fs.String("queues", "", `comma-separated queue patterns ("*" is any run of characters) the token is limited to`)
	return toolCommand("token", args, stdout, stderr, env, fs, func(cfg Config, fs *flag.FlagSet) error {
		now := time.Now()
		life := *ttl
		if life == 0 {
			life = cfg.Signing.Token.TTL
		}
		if life < 0 || life > signing.MaxTokenTTL {
			return usageErr("-ttl %v outside (0, %v]", life, signing.MaxTokenTTL)
		}
		var roleList []string
		for _, r := range strings.Split(*roles, ",") {
			if r = strings.TrimSpace(r); r != "" {
				roleList = append(roleList, r)
			}
		}
		claims, err := signing.NewClaims(*sub, *project, roleList, now, life)
		if err != nil {
			return err
		}
		if *queues != "" {
			for _, q := range strings.Split(*queues, ",") {
				claims.Queues = append(claims.Queues, strings.TrimSpace(q))
			}
		}
		if err := claims.Validate(); err != nil {
			return usageErr("%v", err)
		}
		signer, err := cfg.Signing.TokenSigner()
		if err != nil {
			return err
		}
		if signer == nil {
			return fmt.Errorf("no token signing key: set %s or signing.token.signing_key", EnvJWTSecret)
		}
		tok, err := signing.IssueToken(signer, claims)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, tok)
		fmt.Fprintf(stderr, "zedge token: sub=%s project=%s roles=%s jti=%s kid=%s expires=%s\n", claims.Subject,
			claims.ProjectID, strings.Join(claims.Roles, ","), claims.ID, signer.KeyID(),
			claims.ExpiresAt.UTC().Format(time.RFC3339))
		return nil
	})
}

func revokeCommand(args []string, stdout, stderr io.Writer, env LookupEnv) int {
	fs := flag.NewFlagSet("zedge revoke", flag.ContinueOnError)
	sig := fs.String("signature", "", "revoke the signed URL with this signature")
	rawURL := fs.String("url", "", "revoke this signed URL (query form: its signature and expires are read from it)")
	fingerprint := fs.String("fingerprint", "", "revoke the signed URL with this fingerprint (hex SHA-256 of its signature)")
	jti := fs.String("jti", "", "revoke the token with this id")
	token := fs.String("token", "", "revoke this token (its jti and expiry are read from it)")
	subject := fs.String("subject", "", "revoke every token of this subject issued until now")
	expires := fs.String("expires", "", "when the credential expires anyway (ISO 8601 or a duration from now), so the entry can be dropped then")
	reason := fs.String("reason", "", "a note kept with the entry")
	list := fs.Bool("list", false, "list the revocations instead")
	remove := fs.Bool("remove", false, "remove the entry named by -signature, -fingerprint, -jti or -subject (undo a revocation)")
	return toolCommand("revoke", args, stdout, stderr, env, fs, func(cfg Config, fs *flag.FlagSet) error {
		now := time.Now()
		revs, err := openRevocations(cfg, nil)
		if err != nil {
			return err
		}
		defer revs.Close()
		l := revs.list
		enc := json.NewEncoder(stdout)
		if *list {
			for _, e := range l.Entries() {
				if err := enc.Encode(e); err != nil {
					return err
				}
			}
			return nil
		}

		var named []string
		var e revoke.Entry
		set := func(flagName string, kind revoke.Kind, id string) {
			named = append(named, "-"+flagName)
			e.Kind, e.ID = kind, id
		}
		if *sig != "" {
			set("signature", revoke.Signature, signing.Fingerprint(*sig))
		}
		if *fingerprint != "" {
			set("fingerprint", revoke.Signature, *fingerprint)
		}
		if *jti != "" {
			set("jti", revoke.TokenID, *jti)
		}
		if *subject != "" {
			set("subject", revoke.Subject, *subject)
		}
		if *rawURL != "" {
			u, err := url.Parse(*rawURL)
			if err != nil {
				return usageErr("-url: %v", err)
			}
			q := u.Query()
			if q.Get(signing.QuerySignature) == "" {
				return usageErr("-url has no signature parameter; for a header-form URL use -signature")
			}
			set("url", revoke.Signature, signing.Fingerprint(q.Get(signing.QuerySignature)))
			if exp := q.Get(signing.QueryExpires); exp != "" && *expires == "" {
				if t, err := signing.ParseExpires(exp, time.Time{}); err == nil {
					e.Expires = t
				}
			}
		}
		if *token != "" {
			var claims signing.Claims
			// Not verified: revoking can only refuse more, so the token's own word for its jti is enough.
			if _, _, err := jwt.NewParser().ParseUnverified(*token, &claims); err != nil || claims.ID == "" {
				return usageErr("-token: not a token with a jti")
			}
			set("token", revoke.TokenID, claims.ID)
			if claims.ExpiresAt != nil && *expires == "" {
				e.Expires = claims.ExpiresAt.Time
			}
		}
		if len(named) != 1 {
			return usageErr("name exactly one of -signature, -url, -fingerprint, -jti, -token, -subject (or -list)")
		}
		if *remove {
			if *rawURL != "" || *token != "" {
				return usageErr("-remove takes -signature, -fingerprint, -jti or -subject")
			}
			if err := l.Remove(e.Kind, e.ID, now); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "zedge revoke: removed %s %s\n", e.Kind, e.ID)
			return nil
		}
		if *expires != "" {
			if e.Expires, err = parseExpiry(*expires, now); err != nil {
				return usageErr("-expires: %v", err)
			}
		}
		e.Reason = *reason
		stored, err := l.Revoke(e, now)
		if err != nil {
			if errors.Is(err, revoke.ErrInvalidEntry) {
				return usageErr("%v", err)
			}
			return err
		}
		return enc.Encode(stored)
	})
}
