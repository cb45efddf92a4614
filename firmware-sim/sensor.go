package firmwaresim

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"time"

	"github.com/zedge-io/zedge/sensors"
)

// sensorDev is one signed-URL sensor: it samples its room and posts through its building's client.
type sensorDev struct {
	sim      *Sim
	id       string
	kind     sensors.Kind
	building string
	officeID string
	room     *room
	skew     time.Duration
	client   *sensors.Client
}

// run samples at every sensor tick into an outbox and posts the outbox (up to the client's batch) each time;
// a failed post keeps the readings for the next tick, a refused one counts them as rejected, loudly. After
// gen ends it only flushes, until the outbox is empty or live ends.
func (s *sensorDev) run(gen, live context.Context, rng *rand.Rand) {
	runOutbox(gen, live, rng, outboxLoop[sensors.Reading]{
		interval: s.sim.cfg.SensorInterval, retry: 100 * time.Millisecond, limit: s.sim.cfg.Firmware.OutboxLimit,
		flow:   s.sim.readings,
		sample: func() sensors.Reading { return s.sample(rng) },
		flush:  func(outbox []sensors.Reading) []sensors.Reading { return s.flush(live, outbox) },
		dropped: func(r sensors.Reading) {
			s.sim.errorf("%s: outbox full, oldest reading %s dropped", s.id, r.ID())
		},
	})
}

const sensorBatch = 20

func (s *sensorDev) flush(live context.Context, outbox []sensors.Reading) []sensors.Reading {
	f := s.sim.readings
	for len(outbox) > 0 && live.Err() == nil {
		batch := outbox[:min(len(outbox), sensorBatch)]
		start := time.Now()
		res, err := s.client.Post(live, batch...)
		f.attempts.Add(int64(max(res.Attempts, 1)))
		f.failures.Add(int64(max(res.Attempts-1, 0)))
		switch {
		case err == nil:
			took := time.Since(start)
			for _, r := range batch {
				f.ack(r.ID(), took)
			}
			outbox = outbox[len(batch):]
		case errors.Is(err, sensors.ErrRejected), errors.Is(err, sensors.ErrInvalid):
			f.rejected.Add(int64(len(batch)))
			s.sim.errorf("%s: %d readings refused: %v", s.id, len(batch), err)
			outbox = outbox[len(batch):]
		default:
			s.sim.errorf("%s: post failed, kept for the next try: %v", s.id, err)
			return outbox
		}
	}
	return outbox
}

func (s *sensorDev) sample(rng *rand.Rand) sensors.Reading {
	v := s.room.view()
	noise := func(a float64) float64 { return (rng.Float64()*2 - 1) * a }
	var value float64
	switch s.kind {
	case sensors.Temperature:
		value = math.Round((v.temp+noise(0.1))*10) / 10
	case sensors.Humidity:
		value = math.Round(math.Max(0, math.Min(100, 40+3*float64(v.occupancy)-(v.temp-22)+noise(1)))*10) / 10
	case sensors.CO2:
		value = math.Round(420 + 180*float64(v.occupancy) + noise(15))
	case sensors.Occupancy:
		value = float64(v.occupancy)
	case sensors.Power:
		value = math.Round(v.totalACW)
	}
	return sensors.New(s.id, s.kind, value, s.building, s.officeID, time.Now().Add(s.skew))
}
