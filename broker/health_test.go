package broker

import (
	"errors"
	"testing"

	"github.com/zedge-io/zedge/store"
)

func TestPingAndHealth(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc
	must(t, s.Ping(ctx))

	rep, err := s.Health(ctx)
	must(t, err)
	ops := []string{HealthCreateQueue, HealthPostMessages, HealthClaimMessages, HealthListMessages,
		HealthDeleteMessages, HealthDeleteClaim, HealthBulkDeleteMessages, HealthDeleteQueue}
	if !rep.StorageReachable || len(rep.OperationStatus) != len(ops) {
		t.Fatalf("report: %+v", rep)
	}
	for _, op := range ops {
		st, ok := rep.OperationStatus[op]
		if !ok || !st.Succeeded || st.Ref != nil || st.Seconds < 0 {
			t.Errorf("%s: %+v", op, st)
		}
	}
	// The self-test cleans up after itself and leaves the caller's projects alone.
	if list, _ := s.ListQueues(ctx, proj, QueueListOptions{WithCount: true}); list.HasCount {
		t.Errorf("health left queues: %+v", list)
	}

	// A failing step is reported, not fatal.
	e.st.FailOn("CreateClaim")
	rep, err = s.Health(ctx)
	must(t, err)
	if st := rep.OperationStatus[HealthClaimMessages]; st.Succeeded || st.Ref == nil || len(*st.Ref) != 36 {
		t.Errorf("failed claim step: %+v", st)
	}
	if !rep.OperationStatus[HealthPostMessages].Succeeded || rep.OperationStatus[HealthDeleteMessages].Succeeded ||
		rep.OperationStatus[HealthDeleteClaim].Succeeded || !rep.OperationStatus[HealthDeleteQueue].Succeeded {
		t.Errorf("steps around the failure: %+v", rep.OperationStatus)
	}

	// An unreachable store fails both.
	e.st.FailOn("Health")
	err = s.Ping(ctx)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("ping: %v", err)
	}
	_, err = s.Health(ctx)
	wantErr(t, "health", err, ErrUnavailable, "Health status could not be read. Please try again in a few seconds.")
}
