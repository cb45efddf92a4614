package httpapi

import (
	"errors"
	"fmt"
	"testing"

	"github.com/zedge-io/zedge/broker"
)

func TestErrorResponse(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		title  string
		desc   string
	}{
		{broker.Errorf(broker.ErrInvalid, "Limit must be at least 1 and may not be greater than 20."), 400, "Invalid API request",
			"Limit must be at least 1 and may not be greater than 20."},
		{broker.Errorf(broker.ErrBadBody, "Request body could not be parsed."), 400, "Invalid request body", "Request body could not be parsed."},
		{broker.Errorf(broker.ErrNotFound, "Queue q does not exist for project p"), 404, "Not found", "Queue q does not exist for project p"},
		{broker.Errorf(broker.ErrConflict, "dup"), 409, "Resource conflict", "dup"},
		{broker.Errorf(broker.ErrClaimed, "claimed"), 403, "Unable to delete", "claimed"},
		{broker.Errorf(broker.ErrCannotDelete, "not claimed"), 400, "Unable to delete", "not claimed"},
		{broker.Errorf(broker.ErrCannotUpdateSub, "x"), 400, "Unable to update subscription", "x"},
		{broker.Errorf(broker.ErrCannotConfirmSub, "y"), 400, "Unable to confirm subscription", "y"},
		{broker.Errorf(broker.ErrForbidden, "You are not authorized to complete this action."), 403, "Not authorized",
			"You are not authorized to complete this action."},
		{&broker.Error{Kind: broker.ErrUnavailable, Description: "Messages could not be listed. Please try again in a few seconds.",
			Err: errors.New("disk")}, 503, "Service temporarily unavailable", "Messages could not be listed. Please try again in a few seconds."},
		{broker.Errorf(broker.ErrBadQueueName, "bad"), 400, "Invalid queue identification", "bad"},
		{broker.Errorf(broker.ErrBadClientID, "Malformed hexadecimal UUID."), 400, "Wrong UUID value", "Malformed hexadecimal UUID."},
		{fmt.Errorf("wrapped: %w", broker.Errorf(broker.ErrNotFound, "deep")), 404, "Not found", "deep"},
		{broker.ErrNotFound, 404, "Not found", ""},
		{errors.New("boom"), 500, "Internal server error", ""},
		{errPatchMediaType, 415, errPatchMediaType.Title, ""},
		{ErrRouteNotFound, 404, "404 Not Found", ""},
	} {
		got := errorResponse(c.err)
		if got.Status != c.status || got.Title != c.title || got.Description != c.desc {
			t.Errorf("errorResponse(%v) = %d %q %q; want %d %q %q", c.err, got.Status, got.Title, got.Description,
				c.status, c.title, c.desc)
		}
	}
}
