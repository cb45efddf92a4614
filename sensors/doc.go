// Package sensors is what a campus sensor's firmware links: the kinds of sensor (temperature, humidity, CO2,
// occupancy, power), the reading they send and its JSON form, validation of a reading (unit, range,
// timestamp), and a small client that posts readings to a zedge (or Zaqar) queue through a signed URL.
//
// It depends on no zedge package: a sensor knows only HTTP, JSON and the URL it was handed.
//
// # The reading
//
// One reading is one JSON object, exactly:
//
//	{"sensor":"b1-f1-o3-temp","kind":"temperature","value":22.4,"unit":"celsius","building":"b1",
//	 "office":"b1-f1-o3","ts":"2026-11-22T06:01:02.123Z"}
//
// Each kind has one unit (temperature: celsius, humidity: percent, co2: ppm, occupancy: persons, power: watts)
// and a physical range; occupancy counts whole persons. ts is the sensor's own clock in UTC with
// milliseconds; Validate accepts it when it lies within MaxFutureSkew ahead of and MaxAge behind the
// validator's clock, since sensor clocks drift. A reading is identified by its sensor and ts (Reading.ID): a
// sensor never sends two readings in the same millisecond, and a retried post carries the same pair, so
// duplicates from retries can be recognised downstream.
//
// # Posting
//
// Client posts readings with POST {queue}/messages, as Zaqar's message post ({"messages": [{"body": reading,
// "ttl": N}]}), to a signed URL: either zedge's query form (the URL carries signature, expires, methods, paths
// and project, as `zedge sign` prints it) or Zaqar's header form (URL-Signature, URL-Expires, URL-Methods,
// URL-Paths and X-Project-ID in Config.Headers, see SignedHeaders). A Client-ID header is always sent.
//
// Delivery is at least once and never silently lossy: a 201 means the readings are stored; a connection
// error, a timeout, a 429 or a 5xx answer is retried with capped exponential backoff and jitter until
// Config.MaxAttempts or the context ends, and then Post returns ErrGaveUp with the last cause; any other
// answer (a 4xx: the signature is refused, the body is invalid) returns ErrRejected at once, since sending
// the same request again cannot succeed. Either way the caller still holds the readings it passed and
// decides what to do with them. A post that timed out may have been stored anyway; the retry then stores it
// twice, which Reading.ID lets a consumer detect.
package sensors
