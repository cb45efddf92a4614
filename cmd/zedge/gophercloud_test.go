package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/messaging/v2/claims"
	"github.com/gophercloud/gophercloud/v2/openstack/messaging/v2/messages"
	"github.com/gophercloud/gophercloud/v2/openstack/messaging/v2/queues"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// gopherClient is a noauth gophercloud messaging client: the endpoint plus the Client-ID and X-Project-ID headers.
func gopherClient(t *testing.T, s *server, project string) *gophercloud.ServiceClient {
	t.Helper()
	provider, err := openstack.NewClient(s.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	provider.HTTPClient = http.Client{}
	return &gophercloud.ServiceClient{
		ProviderClient: provider,
		Endpoint:       s.base + "/",
		Type:           "messaging",
		MoreHeaders:    map[string]string{"Client-ID": uuid.NewString(), "X-Project-ID": project},
	}
}

func TestGophercloud(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	producer := gopherClient(t, s, "gopher")
	consumer := gopherClient(t, s, "gopher")

	// Queues: create (with metadata), get, update, list, stats.
	for _, name := range []string{"gq-a", "gq-b"} {
		err := queues.Create(ctx, producer, queues.CreateOpts{
			QueueName:         name,
			DefaultMessageTTL: 600,
			Extra:             map[string]any{"site": "b1"},
		}).ExtractErr()
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	details, err := queues.Get(ctx, producer, "gq-a").Extract()
	if err != nil {
		t.Fatal(err)
	}
	if details.DefaultMessageTTL != 600 || details.MaxMessagesPostSize != 262144 || details.Extra["site"] != "b1" {
		t.Errorf("queue metadata = %+v", details)
	}
	updated, err := queues.Update(ctx, producer, "gq-a", queues.BatchUpdateOpts{
		{Op: queues.ReplaceOp, Path: "/metadata/site", Value: "b2"},
		{Op: queues.AddOp, Path: "/metadata/floor", Value: 3},
	}).Extract()
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.Extra["site"] != "b2" || updated.Extra["floor"] != float64(3) || updated.DefaultMessageTTL != 600 {
		t.Errorf("metadata after the patch = %+v", updated)
	}

	var names []string
	var count int
	err = queues.List(producer, queues.ListOpts{Limit: 1, WithCount: true}).EachPage(ctx,
		func(_ context.Context, page pagination.Page) (bool, error) {
			qs, err := queues.ExtractQueues(page)
			if err != nil {
				return false, err
			}
			for _, q := range qs {
				names = append(names, q.Name)
			}
			if c, err := page.(queues.QueuePage).GetCount(); err == nil && c > 0 {
				count = c
			}
			return true, nil
		})
	if err != nil {
		t.Fatalf("list queues: %v", err)
	}
	if !slices.Equal(names, []string{"gq-a", "gq-b"}) || count != 2 {
		t.Errorf("queue listing = %v (count %d), want [gq-a gq-b] (count 2)", names, count)
	}

	// Messages: create, list (echo), get, get many, delete.
	res, err := messages.Create(ctx, producer, "gq-a", messages.BatchCreateOpts{
		{Body: map[string]any{"temp": 21.5}},
		{Body: map[string]any{"temp": 22.0}, TTL: 120},
		{Body: map[string]any{"temp": 22.5}},
	}).Extract()
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	if len(res.Resources) != 3 {
		t.Fatalf("post resources = %v", res.Resources)
	}
	var msgIDs []string
	for _, r := range res.Resources {
		msgIDs = append(msgIDs, idFromPath(r))
	}

	listAll := func(c *gophercloud.ServiceClient, opts messages.ListOpts) []messages.Message {
		t.Helper()
		pages, err := messages.List(c, "gq-a", opts).AllPages(ctx)
		if err != nil {
			t.Fatalf("list messages: %v", err)
		}
		all, err := messages.ExtractMessages(pages)
		if err != nil {
			t.Fatal(err)
		}
		return all
	}
	if got := listAll(producer, messages.ListOpts{}); len(got) != 0 {
		t.Errorf("the producer sees %d of its own messages without echo", len(got))
	}
	got := listAll(producer, messages.ListOpts{Echo: true, Limit: 2})
	if len(got) != 3 {
		t.Fatalf("listing with echo = %d messages, want 3", len(got))
	}
	for i, m := range got {
		if m.ID != msgIDs[i] {
			t.Errorf("message %d id %s, want %s (FIFO)", i, m.ID, msgIDs[i])
		}
	}
	if got[0].TTL != 600 || got[1].TTL != 120 {
		t.Errorf("ttls %d, %d; want the queue default 600 and the posted 120", got[0].TTL, got[1].TTL)
	}
	if n := len(listAll(consumer, messages.ListOpts{})); n != 3 {
		t.Errorf("the consumer sees %d messages, want 3", n)
	}

	one, err := messages.Get(ctx, consumer, "gq-a", msgIDs[1]).Extract()
	if err != nil || one.Body["temp"] != 22.0 {
		t.Errorf("get = %+v, %v", one, err)
	}
	many, err := messages.GetMessages(ctx, consumer, "gq-a", messages.GetMessagesOpts{IDs: []string{msgIDs[0], msgIDs[2]}}).Extract()
	if err != nil || len(many) != 2 {
		t.Errorf("get many = %+v, %v", many, err)
	}

	st, err := queues.GetStats(ctx, consumer, "gq-a").Extract()
	if err != nil || st.Total != 3 || st.Free != 3 || st.Claimed != 0 {
		t.Errorf("stats = %+v, %v", st, err)
	}

	// Claims: create, get, update, delete of a claimed message with the claim, release.
	cres := claims.Create(ctx, consumer, "gq-a", claims.CreateOpts{TTL: 120, Grace: 60, Limit: 2})
	claimed, err := cres.Extract()
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim = %+v, %v", claimed, err)
	}
	claimID := idFromPath(cres.Header.Get("Location"))
	for _, m := range claimed {
		if claimIDFromHref(m.Href) != claimID {
			t.Errorf("claimed href %s does not carry the Location's claim id %s", m.Href, claimID)
		}
	}
	cl, err := claims.Get(ctx, consumer, "gq-a", claimID).Extract()
	if err != nil || cl.TTL != 120 || len(cl.Messages) != 2 || !strings.HasSuffix(cl.Href, "/claims/"+claimID) {
		t.Fatalf("get claim = %+v, %v", cl, err)
	}
	if err := claims.Update(ctx, consumer, "gq-a", claimID, claims.UpdateOpts{TTL: 240, Grace: 60}).ExtractErr(); err != nil {
		t.Fatalf("update claim: %v", err)
	}
	if cl, err := claims.Get(ctx, consumer, "gq-a", claimID).Extract(); err != nil || cl.TTL != 240 {
		t.Errorf("claim after update = %+v, %v", cl, err)
	}
	st, _ = queues.GetStats(ctx, consumer, "gq-a").Extract()
	if st.Claimed != 2 || st.Free != 1 {
		t.Errorf("stats with a claim = %+v", st)
	}

	// Without the claim id the delete is refused; with it, it succeeds.
	first := idFromPath(claimed[0].Href)
	err = messages.Delete(ctx, producer, "gq-a", first, messages.DeleteOpts{}).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Errorf("delete a claimed message without its claim: %v, want 403", err)
	}
	if err := messages.Delete(ctx, consumer, "gq-a", first, messages.DeleteOpts{ClaimID: claimID}).ExtractErr(); err != nil {
		t.Errorf("delete with the claim: %v", err)
	}
	if _, err := messages.Get(ctx, consumer, "gq-a", first).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("get a deleted message: %v, want 404", err)
	}
	if err := claims.Delete(ctx, consumer, "gq-a", claimID).ExtractErr(); err != nil {
		t.Errorf("release: %v", err)
	}
	if _, err := claims.Get(ctx, consumer, "gq-a", claimID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("get a released claim: %v, want 404", err)
	}
	st, _ = queues.GetStats(ctx, consumer, "gq-a").Extract()
	if st.Total != 2 || st.Claimed != 0 {
		t.Errorf("stats after the release = %+v", st)
	}

	// Pop and bulk delete.
	popped, err := messages.PopMessages(ctx, consumer, "gq-a", messages.PopMessagesOpts{Pop: 1}).Extract()
	if err != nil || len(popped) != 1 || popped[0].ID != msgIDs[1] || popped[0].Body["temp"] != 22.0 {
		t.Errorf("pop = %+v, %v", popped, err)
	}
	if err := messages.DeleteMessages(ctx, consumer, "gq-a", messages.DeleteMessagesOpts{IDs: []string{msgIDs[2]}}).ExtractErr(); err != nil {
		t.Errorf("bulk delete: %v", err)
	}
	st, _ = queues.GetStats(ctx, consumer, "gq-a").Extract()
	if st.Total != 0 {
		t.Errorf("stats after pop and bulk delete = %+v", st)
	}

	// An empty queue's claim is a 204 with no messages.
	if msgs, err := claims.Create(ctx, consumer, "gq-b", claims.CreateOpts{TTL: 60, Grace: 60}).Extract(); err != nil || len(msgs) != 0 {
		t.Errorf("claim of an empty queue = %+v, %v", msgs, err)
	}

	// Delete the queues.
	for _, name := range []string{"gq-a", "gq-b"} {
		if err := queues.Delete(ctx, producer, name).ExtractErr(); err != nil {
			t.Errorf("delete %s: %v", name, err)
		}
	}
	pages, err := queues.List(producer, queues.ListOpts{}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := queues.ExtractQueues(pages); len(left) != 0 {
		t.Errorf("queues after delete: %+v", left)
	}
}
