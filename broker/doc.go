// Package broker is zedge's domain: the Zaqar v2 rules for queues, messages, claims and subscriptions, in one
// place. Service is built over a store.Store; the REST and websocket transports and the MQTT bridge all call it,
// so validation, defaults, limits, echo, claim rules, reserved queue metadata and dead-lettering are written once.
//
// Errors returned by the Service wrap one of the kind sentinels in errors.go and carry Zaqar's description text;
// each transport maps kinds to its own status codes in one table.
package broker
