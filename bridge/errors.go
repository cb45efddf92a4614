package bridge

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrBadRule: a topic pattern, queue template or rule is malformed.
	ErrBadRule = errors.New("bridge: bad rule")
	// ErrNoRule: no telemetry rule matches the topic (it is plain MQTT).
	ErrNoRule = errors.New("bridge: no rule matches the topic")
	// ErrBadQueue: a rule matches but the queue name it derives is not a valid queue name.
	ErrBadQueue = errors.New("bridge: derived queue name is not valid")
	// ErrBadReply: a reply on an ack topic is not a JSON object with a string "id".
	ErrBadReply = errors.New("bridge: reply is not a JSON object with a string id")
	// ErrNoVerifier: jwt auth without a token verifier.
	ErrNoVerifier = errors.New("bridge: jwt auth needs a token verifier")
	// ErrTokenRevoked: the token is on the revocation list.
	ErrTokenRevoked = errors.New("bridge: token revoked")
	// ErrTokenExpired: a token accepted at CONNECT has expired since.
	ErrTokenExpired = errors.New("bridge: token expired")
	// ErrCommandTopic: Publish was asked to publish on a device's command topic (commands go through their
	// queue, so that they are tracked and acknowledged).
	ErrCommandTopic = errors.New("bridge: command topics take commands through their queue")
	// ErrBadTopic: Publish was given an empty topic, a topic with wildcards or a $ topic.
	ErrBadTopic = errors.New("bridge: not a topic name one may publish to")
	// ErrClosed: the bridge is closed.
	ErrClosed = errors.New("bridge: closed")
)
