package wsapi

import (
	"encoding/json"
	"net/http"
)

// authenticateRequest is the request echoed by authenticate's answers: never the token.
var authenticateRequest = &request{actionRaw: json.RawMessage(`"authenticate"`), headersRaw: rawEmptyObj, bodyRaw: rawEmptyObj}

// handleFrame runs one frame and returns the encoded answer, in the frame type it came in. The steps are
// Zaqar's: decode, envelope shape, action and schema, authentication, then the action.
func (s *Server) handleFrame(c *conn, data []byte, binary bool) []byte {
	doc, err := frameJSON(data, binary)
	if err != nil {
		kind := "text (JSON)"
		if binary {
			kind = "binary (MessagePack)"
		}
		text := "Can't decode " + kind + " request. " + err.Error()
		return s.encode(emptyRequest, protocolError(http.StatusBadRequest, text), binary)
	}
	r, isObject := parseRequest(doc, binary)
	if !isObject {
		return s.encode(emptyRequest, errNotObject, binary)
	}
	spec, known := actions[r.action]
	if !known || r.action == "" {
		return s.encode(r, protocolError(http.StatusBadRequest, actionText(r.actionRaw)+" is not a valid action"), binary)
	}
	if !spec.valid(r) {
		return s.encode(r, errSchema, binary)
	}
	r.project = r.header("X-Project-ID")
	if spec.queue {
		r.queue = r.str("queue_name")
	}
	if r.action == "authenticate" {
		return s.encode(authenticateRequest, s.authenticate(c, r), binary)
	}
	if rep, allowed := s.authorize(c, r); !allowed {
		return s.encode(r, rep, binary)
	}
	if spec.run == nil {
		return s.encode(r, protocolError(http.StatusBadRequest, r.action+" is not implemented by this server."), binary)
	}
	return s.encode(r, spec.run(s, c, r), binary)
}

// emptyRequest is echoed when the frame has no usable envelope.
var emptyRequest = &request{actionRaw: rawNull, headersRaw: rawEmptyObj, bodyRaw: rawEmptyObj}

// encode writes the response envelope:
//
//	{"request": {"action", "body", "headers", "api": "v2"}, "body": ..., "headers": {"status": N}}
//
// answerFraming bounds the bytes of an answer around the echoed request and the reply body.
const answerFraming = len(`{"request": {"action": , "body": , "headers": , "api": "v2"}, "body": `+
	`, "headers": {"status": }}`) + 3

func (s *Server) encode(r *request, rep reply, binary bool) []byte {
	// answerFraming is the envelope's own bytes (about 100): with less the buffer grows once per answer.
	b := make([]byte, 0, answerFraming+len(r.actionRaw)+len(r.bodyRaw)+len(r.headersRaw)+len(rep.body))
	b = append(b, `{"request": {"action": `...)
	b = append(b, r.actionRaw...)
	b = append(b, `, "body": `...)
	b = append(b, r.bodyRaw...)
	b = append(b, `, "headers": `...)
	b = append(b, r.headersRaw...)
	b = append(b, `, "api": "v2"}, "body": `...)
	b = append(b, rep.body...)
	b = append(b, `, "headers": {"status": `...)
	b = appendInt(b, int64(rep.status))
	b = append(b, "}}"...)
	if !binary {
		return b
	}
	m, err := jsonToMsgpack(b)
	if err != nil {
		s.log.Error("cannot encode an answer as msgpack", "err", err)
		m, _ = jsonToMsgpack(s.encode(emptyRequest, protocolError(http.StatusInternalServerError, "Unexpected error."), false))
	}
	return m
}
