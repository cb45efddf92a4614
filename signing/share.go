package signing

import "time"

// Share names accepted in the paths of a share request, each standing for /v2/queues/{q}/<name>.
const (
	ShareMessages      = "messages"
	ShareSubscriptions = "subscriptions"
	ShareClaims        = "claims"
)

// ExpandSharePaths turns share path names into full paths of queue q (messages → /v2/queues/q/messages).
// Any other name fails with ErrInvalidPaths and Zaqar's text, listing every bad name: "Invalid paths: {'foo'}".
// The order and any duplicates are kept, as Zaqar keeps them (they are signed as given, sorted).
func ExpandSharePaths(queue string, names []string) ([]string, error) {
	elems := make([]any, len(names))
	for i, n := range names {
		elems[i] = n
	}
	return expandSharePaths(queue, elems)
}

func expandSharePaths(queue string, names []any) ([]string, error) {
	var bad []any
	paths := make([]string, 0, len(names))
	for _, n := range names {
		s, ok := n.(string)
		if !ok || (s != ShareMessages && s != ShareSubscriptions && s != ShareClaims) {
			bad = append(bad, n)
			continue
		}
		paths = append(paths, "/v2/queues/"+queue+"/"+s)
	}
	if bad != nil {
		return nil, invalid(ErrInvalidPaths, "Invalid paths: "+pySetRepr(bad))
	}
	return paths, nil
}

// Share handles the body of POST /v2/queues/{queue}/share for project and signs the grant with the ring's
// primary key. body is the request's JSON object as decoded by encoding/json (preferably with UseNumber, so
// integer and float texts come out as Python would print them). The checks and their texts follow Zaqar, in
// Zaqar's order; each failure is a *ValidationError (HTTP 400 "Invalid API request", description = Text):
//
//   - keys other than paths, methods, expires: "Unknown keys: {'project_id'}" (ErrUnknownKeys);
//   - paths: a false value (absent, null, [], "", 0) means ["messages"]; other non-lists fail with "`paths`
//     must be a non-empty list" (ErrPathsNotList; Zaqar would take a string apart into characters); names
//     outside messages, subscriptions, claims: "Invalid paths: {'foo'}" (ErrInvalidPaths);
//   - no ring: "The `key` can't be None" (ErrKeyMissing);
//   - methods: a false value means ["GET"]; a non-list: "`methods` should be a list" (ErrMethodsNotList);
//     methods are not checked against a set, but must be non-empty strings without "," or "\", at most
//     MaxGrantElements of them (ErrMethodsInvalid; Zaqar answers 500 or signs such a list);
//   - expires: absent or null means now + DefaultExpiry, otherwise ParseExpires's rules; a JSON number or
//     boolean meets Python's int() first (ErrExpiresInteger, ErrExpiresUnparsable, ErrExpiresPast).
//
// The result's paths and methods are sorted; its MarshalJSON is Zaqar's response body.
func Share(ring *KeyRing, queue, project string, body map[string]any, now time.Time) (SignedURL, error) {
	var unknown []any
	for _, k := range sortedKeys(body) {
		if k != "paths" && k != "methods" && k != "expires" {
			unknown = append(unknown, k)
		}
	}
	if unknown != nil {
		return SignedURL{}, invalid(ErrUnknownKeys, "Unknown keys: "+pySetRepr(unknown))
	}

	names := []any{ShareMessages}
	if v := body["paths"]; pyTruthy(v) {
		list, ok := v.([]any)
		if !ok {
			return SignedURL{}, invalid(ErrPathsNotList, "`paths` must be a non-empty list")
		}
		names = list
	}
	paths, err := expandSharePaths(queue, names)
	if err != nil {
		return SignedURL{}, err
	}

	if ring == nil || len(ring.keys) == 0 {
		return SignedURL{}, invalid(ErrKeyMissing, "The `key` can't be None")
	}

	methods := []string{"GET"}
	if v := body["methods"]; pyTruthy(v) {
		list, ok := v.([]any)
		if !ok {
			return SignedURL{}, invalid(ErrMethodsNotList, "`methods` should be a list")
		}
		methods = make([]string, len(list))
		for i, m := range list {
			s, ok := m.(string)
			if !ok {
				return SignedURL{}, invalid(ErrMethodsInvalid, "Invalid methods: "+pySetRepr([]any{m}))
			}
			methods[i] = s
		}
	}

	expires := now.Add(DefaultExpiry)
	if v := body["expires"]; v != nil {
		if expires, err = parseExpiresValue(v, now); err != nil {
			return SignedURL{}, err
		}
	}

	return ring.Sign(URLGrant{Paths: paths, Methods: methods, Project: project, Expires: expires})
}
