package firmwaresim

import (
	"context"
	"fmt"
	"time"

	"github.com/zedge-io/zedge/signing"
)

// tokenKid is the key id zedge gives the secret of ZEDGE_JWT_SECRET.
const tokenKid = "default"

// credentials hands out what devices, sensors and the operator present to zedge.
type credentials struct {
	project string
	signer  *signing.TokenSigner // nil: auth none (no tokens)
	ring    *signing.KeyRing     // nil: signed URLs come from zedge's share API
	ttl     time.Duration
	now     func() time.Time
}

func newCredentials(opts Options, project string, ttl time.Duration) (*credentials, error) {
	c := &credentials{project: project, ttl: ttl, now: time.Now}
	if opts.JWTSecret != "" {
		s, err := signing.NewHS256Signer(tokenKid, []byte(opts.JWTSecret))
		if err != nil {
			return nil, fmt.Errorf("%w: jwt secret: %v", ErrConfig, err)
		}
		c.signer = s
	}
	if opts.SigningKey != "" {
		r, err := signing.NewKeyRing(signing.URLKey{ID: "default", Secret: []byte(opts.SigningKey)})
		if err != nil {
			return nil, fmt.Errorf("%w: signing key: %v", ErrConfig, err)
		}
		c.ring = r
	}
	return c, nil
}

// token mints a token for sub with role; "" when there is no secret (auth none).
func (c *credentials) token(sub, role string) (string, error) {
	if c.signer == nil {
		return "", nil
	}
	claims, err := signing.NewClaims(sub, c.project, []string{role}, c.now(), c.ttl)
	if err != nil {
		return "", err
	}
	return signing.IssueToken(c.signer, claims)
}

// readingsURL is the signed URL (zedge's query form) a building's sensors post to: signed here with the
// URL key, or issued by zedge's share API with the operator's credentials.
func (c *credentials) readingsURL(ctx context.Context, rest *restClient, building string) (string, error) {
	queue := ReadingsQueue(building)
	expires := c.now().Add(c.ttl)
	if c.ring == nil {
		u, err := rest.share(ctx, queue, expires)
		if err != nil {
			return "", fmt.Errorf("signed URL for %s from zedge's share API (give the signing key to sign locally): %w", queue, err)
		}
		return u, nil
	}
	su, err := c.ring.Sign(signing.URLGrant{Paths: []string{"/v2/queues/" + queue + "/messages"},
		Methods: []string{"POST"}, Project: c.project, Expires: expires})
	if err != nil {
		return "", err
	}
	q := su.Query()
	q.Set("project", c.project)
	return rest.base + "/v2/queues/" + queue + "/messages?" + q.Encode(), nil
}
