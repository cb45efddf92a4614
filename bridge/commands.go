package bridge

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/store"
)

// User properties on a command publish. MQTT 5 devices see them; the bridge reads them back from the inflight
// copy when the PUBACK arrives, which ties the acknowledgement to the message whatever packet id it used.
const (
	PropMessageID = "zedge-message-id"
	PropQueue     = "zedge-queue"
)

// commandState delivers commands. One deliverer exists per command queue whose device is connected and
// subscribed to its command topic (or that still has deliveries awaiting acknowledgement). Deliverers are run
// by a fixed pool of workers when something happens: a post to the queue (observer), the device becoming
// ready, an acknowledgement freeing room in the window, a claim expiring. Nothing polls.
//
// Lock order: commandState.mu before deliverer.mu, deliverer.sendMu before deliverer.mu (sendMu is never taken
// with commandState.mu held); queueMu is taken alone.
type commandState struct {
	b *Bridge
	// lazyCtx carries the writes that no device waits for: those that apply an acknowledgement (the command's
	// delete, its status record) and the claims that cover commands already delivered early. They may share a
	// commit with the next write instead of paying for an fsync of their own (store.WithDeferredCommit), which
	// leaves the fsyncs to the posts that devices do wait for.
	lazyCtx context.Context

	mu       sync.Mutex
	byQueue  map[queueKey]*deliverer
	byClient map[*mqtt.Client][]*deliverer

	queueMu sync.Mutex
	cond    *sync.Cond
	queue   []*deliverer
	stopped bool
	workers sync.WaitGroup
	// finishing counts acknowledgements being applied off the workers (run).
	finishing sync.WaitGroup
}

type queueKey struct{ project, queue string }

// Scheduling states of a deliverer.
const (
	idle = iota
	queued
	running
	runningAgain // woken while running: run once more
)

type deliverer struct {
	key   queueKey
	route CommandRoute
	// topic is the route's command topic in the project's namespace (namespace.go).
	topic string

	// clients are the connections of the device subscribed to its command topic (guarded by commandState.mu).
	clients map[*mqtt.Client]struct{}

	// sendMu is held from assigning commands to the device (outstanding) until they are handed to the MQTT
	// server, by a claim's run and by deliverEarly alike, so that they go out in the order they were assigned:
	// a fresh command never overtakes older ones that a claim returned a moment before.
	sendMu sync.Mutex

	mu          sync.Mutex
	state       int
	outstanding map[string]pending // message id → the claim it was delivered under
	timer       *time.Timer
	retry       time.Duration
	// drained: the last claim found no more unclaimed commands, so a fresh command is the oldest one waiting
	// and may go out ahead of its claim without overtaking older ones.
	drained bool
	// claimedAt is when the last claim returned: a command posted before it may have been claimed (and
	// delivered, and even acknowledged) already, so only commands posted after it go out ahead of a claim.
	claimedAt time.Time
	// dropped: dropIfUnused removed the deliverer. A post that looked it up before that delivers nothing
	// through it: the deliverer of the device's next connection would not know of the delivery, and claim and
	// deliver the command again.
	dropped bool
}

type pending struct {
	claimID string    // "" for a command delivered ahead of its claim, until a claim covers it
	expires time.Time // by the local clock, no earlier than the store's claim expiry
	// acked holds an acknowledgement that arrived before the claim covered the command; the claim applies it.
	// It stays here while it is being applied (claimID set), so that a later acknowledgement of the same command
	// (the device's reply after its PUBACK) waits for it: the reply's record then follows the PUBACK's, and the
	// reply's PUBACK follows the delete.
	acked *ackNote
}

type ackNote struct {
	via   string
	reply []byte
	// settled is closed once the note has been applied, or dropped with its delivery: a reply's PUBACK waits
	// for it, so that the PUBACK still follows the acknowledgement. It is closed by whoever removes the note
	// from its pending entry (a claim that did not cover it, the entry's expiry), or, once a claim has covered
	// it (claimID set on the entry), by the goroutine applying it alone.
	settled chan struct{}
}

func (c *commandState) init(b *Bridge) {
	c.b = b
	c.lazyCtx = store.WithDeferredCommit(b.ctx)
	c.byQueue = make(map[queueKey]*deliverer)
	c.byClient = make(map[*mqtt.Client][]*deliverer)
	c.cond = sync.NewCond(&c.queueMu)
}

func (c *commandState) start() {
	for range c.b.cfg.Commands.Workers {
		c.workers.Add(1)
		go c.work()
	}
}

func (c *commandState) stop() {
	c.queueMu.Lock()
	c.stopped = true
	c.cond.Broadcast()
	c.queueMu.Unlock()
	c.workers.Wait()
	c.finishing.Wait()
	c.mu.Lock()
	for _, d := range c.byQueue {
		d.mu.Lock()
		if d.timer != nil {
			d.timer.Stop()
		}
		d.mu.Unlock()
	}
	c.mu.Unlock()
}

// MessagesPosted implements broker.Observer: a post to a command queue wakes its deliverer, if its device is
// connected. It never blocks; it may hand the commands to the device at once (deliverEarly).
func (b *Bridge) MessagesPosted(ev broker.PostEvent) {
	if b.isClosing() {
		return
	}
	if _, ok := b.mapper.CommandQueue(ev.Queue); !ok {
		return
	}
	c := &b.cmd
	c.mu.Lock()
	d := c.byQueue[queueKey{ev.Project, ev.Queue}]
	ready := d != nil && len(d.clients) > 0
	c.mu.Unlock()
	if d != nil {
		if ready {
			c.deliverEarly(d, ev.Messages)
		}
		c.schedule(d)
	}
}

// deliverEarly publishes commands just posted, before they are claimed, when the queue holds nothing older
// unclaimed (drained) and the window has room: the post is already durable, so the device gets them one
// store write (the claim's fsync) and one worker hand-off sooner. The claim the deliverer makes next covers
// them (they are the oldest unclaimed messages) and does not publish them again; an acknowledgement that
// arrives before that claim is applied by it. A command the claim does not cover (another consumer claimed
// it first) lapses after claim_ttl like an unacknowledged delivery. A command left out (no room, a delay)
// marks the queue not drained, so that it goes out in order, by claim; so does one the deliverer's last claim
// may have missed (posted before that claim returned), for it may be older than the next. Publishing only
// copies the packet into the connection's queue (InjectPacket), so the poster is held up at most while the
// deliverer hands a claim's commands to the server (sendMu).
func (c *commandState) deliverEarly(d *deliverer, msgs []broker.Message) {
	b := c.b
	window := b.cfg.Commands.Window
	now := time.Now()
	var early []broker.Message
	d.sendMu.Lock()
	defer d.sendMu.Unlock()
	d.mu.Lock()
	if d.dropped {
		d.mu.Unlock()
		return
	}
	for _, m := range msgs {
		if !m.Created.After(d.claimedAt) {
			// A claim may have seen it (and delivered it, and seen it acknowledged): claims deliver it. If the
			// last claim did not, it is older than the next command posted: that one waits for a claim too.
			d.drained = false
			continue
		}
		if !d.drained || len(d.outstanding) >= window || !m.DelayUntil.IsZero() {
			d.drained = false
			continue
		}
		if _, ok := d.outstanding[m.ID]; ok {
			continue
		}
		if d.outstanding == nil {
			d.outstanding = make(map[string]pending, window)
		}
		d.outstanding[m.ID] = pending{expires: now.Add(b.cfg.Commands.ClaimTTL)}
		early = append(early, m)
	}
	d.mu.Unlock()
	for _, m := range early {
		c.publish(d, m)
	}
}

var _ broker.Observer = (*Bridge)(nil)

// refresh re-reads a connection's subscriptions and updates which deliverers it makes ready.
func (c *commandState) refresh(cl *mqtt.Client) {
	s := c.b.session(cl)
	if s == nil || s.device == "" {
		return
	}
	routes := c.b.mapper.ForDevice(s.device)
	if len(routes) == 0 {
		return
	}
	subs := cl.State.Subscriptions.GetAll()
	var wake []*deliverer
	c.mu.Lock()
	for _, r := range routes {
		ready := false
		topic := s.ns + r.Topic
		for filter := range subs {
			if filterMatches(filter, topic) {
				ready = true
				break
			}
		}
		key := queueKey{s.caller.Project, r.Queue}
		d := c.byQueue[key]
		switch {
		case ready && !cl.Closed():
			if d == nil {
				d = &deliverer{key: key, route: r, topic: topic, clients: map[*mqtt.Client]struct{}{}}
				c.byQueue[key] = d
			}
			if _, ok := d.clients[cl]; !ok {
				d.clients[cl] = struct{}{}
				c.byClient[cl] = append(c.byClient[cl], d)
				wake = append(wake, d)
			}
		case d != nil:
			if _, ok := d.clients[cl]; ok {
				delete(d.clients, cl)
				c.byClient[cl] = removeDeliverer(c.byClient[cl], d)
				if len(c.byClient[cl]) == 0 {
					delete(c.byClient, cl)
				}
				c.dropIfUnused(d)
			}
		}
	}
	c.mu.Unlock()
	for _, d := range wake {
		c.schedule(d)
	}
}

// gone forgets a connection that ended.
func (c *commandState) gone(cl *mqtt.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range c.byClient[cl] {
		delete(d.clients, cl)
		c.dropIfUnused(d)
	}
	delete(c.byClient, cl)
}

func removeDeliverer(list []*deliverer, d *deliverer) []*deliverer {
	for i, x := range list {
		if x == d {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// dropIfUnused removes a deliverer with no ready connection, no delivery awaiting acknowledgement and no run
// pending. Called with c.mu held.
func (c *commandState) dropIfUnused(d *deliverer) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.clients) > 0 || len(d.outstanding) > 0 || d.state != idle {
		return
	}
	if d.timer != nil {
		d.timer.Stop()
	}
	d.dropped = true
	if c.byQueue[d.key] == d {
		delete(c.byQueue, d.key)
	}
}

// schedule asks a worker to run d, once however often it is asked before the run starts.
func (c *commandState) schedule(d *deliverer) {
	d.mu.Lock()
	push := false
	switch d.state {
	case idle:
		d.state, push = queued, true
	case running:
		d.state = runningAgain
	}
	d.mu.Unlock()
	if push {
		c.push(d)
	}
}

func (c *commandState) push(d *deliverer) {
	c.queueMu.Lock()
	c.queue = append(c.queue, d)
	c.cond.Signal()
	c.queueMu.Unlock()
}

func (c *commandState) work() {
	defer c.workers.Done()
	for {
		c.queueMu.Lock()
		for len(c.queue) == 0 && !c.stopped {
			c.cond.Wait()
		}
		if c.stopped {
			c.queueMu.Unlock()
			return
		}
		d := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.queueMu.Unlock()

		d.mu.Lock()
		d.state = running
		d.mu.Unlock()
		c.run(d)
		d.mu.Lock()
		again := d.state == runningAgain
		if again {
			d.state = queued
		} else {
			d.state = idle
		}
		d.mu.Unlock()
		if again {
			c.push(d)
		} else {
			c.mu.Lock()
			c.dropIfUnused(d)
			c.mu.Unlock()
		}
	}
}

// run delivers what fits in d's window: it forgets deliveries whose claim has expired (the store hands those
// messages out again), claims up to the free room on the device's behalf and publishes each claimed message
// (but those already delivered early, see deliverEarly, which the claim now covers). It then arms a timer for
// the earliest claim expiry.
func (c *commandState) run(d *deliverer) {
	b := c.b
	c.mu.Lock()
	ready := len(d.clients) > 0
	c.mu.Unlock()

	now := time.Now()
	d.mu.Lock()
	for id, p := range d.outstanding {
		if !now.Before(p.expires) {
			delete(d.outstanding, id)
			d.drained = false // the command is claimable again, older than any posted from now on
			if p.acked != nil && p.claimID == "" {
				close(p.acked.settled) // the claim never covered it: a later claim delivers it again
			}
		}
	}
	unclaimed := 0
	for _, p := range d.outstanding {
		if p.claimID == "" {
			unclaimed++
		}
	}
	room := b.cfg.Commands.Window - len(d.outstanding)
	d.mu.Unlock()
	// A claim that covers early deliveries waits for company: the device has those commands already, and any
	// command the claim finds besides them goes out once it returns, in order.
	claimCtx := b.ctx
	if unclaimed > 0 {
		claimCtx = c.lazyCtx
	}

	ttl, grace := int(b.cfg.Commands.ClaimTTL/time.Second), int(b.cfg.Commands.ClaimGrace/time.Second)
	maxClaim := b.svc.Limits().MaxMessagesPerClaimOrPop
	for ready && room+unclaimed > 0 && !b.isClosing() {
		limit := min(room+unclaimed, maxClaim)
		claim, msgs, err := b.svc.CreateClaim(claimCtx, d.key.project, d.key.queue,
			broker.ClaimOptions{TTL: &ttl, Grace: &grace, Limit: limit})
		if err != nil {
			b.count(cClaimErrors)
			b.log.Warn("command claim failed", "project", d.key.project, "queue", d.key.queue, "error", err)
			d.mu.Lock()
			d.claimedAt = time.Now() // it may have claimed in the store nonetheless
			d.drained = false
			lapseNotesLocked(d)
			d.retry = min(max(2*d.retry, time.Second), 30*time.Second)
			c.armLocked(d, time.Now().Add(d.retry))
			d.mu.Unlock()
			return
		}
		expires := time.Now().Add(claim.Expires.Sub(claim.Updated))
		var publish []broker.Message
		var acks []ackedCommand
		d.sendMu.Lock()
		d.mu.Lock()
		d.retry = 0
		d.claimedAt = time.Now()
		d.drained = len(msgs) < limit
		if d.outstanding == nil {
			d.outstanding = make(map[string]pending, len(msgs))
		}
		for _, m := range msgs {
			p, known := d.outstanding[m.ID]
			switch {
			case known && p.claimID == "" && p.acked != nil:
				// Acknowledged ahead of its claim: delete it under this claim now. The entry stays, holding its
				// room in the window, until that is done (see pending.acked).
				d.outstanding[m.ID] = pending{claimID: claim.ID, expires: expires, acked: p.acked}
				acks = append(acks, ackedCommand{id: m.ID, claimID: claim.ID, note: p.acked})
				unclaimed--
			case known && p.claimID == "":
				d.outstanding[m.ID] = pending{claimID: claim.ID, expires: expires}
				unclaimed--
			default:
				d.outstanding[m.ID] = pending{claimID: claim.ID, expires: expires}
				publish = append(publish, m)
			}
		}
		d.mu.Unlock()
		for _, m := range publish {
			c.publish(d, m)
		}
		d.sendMu.Unlock()
		for _, a := range acks {
			// Not on this worker: a delete and a result post are two store writes that would hold up the
			// deliveries of other devices. Their number is bounded by the windows.
			c.finishing.Add(1)
			go func() {
				defer c.finishing.Done()
				c.finish(d.key.project, d.route, a.id, a.claimID, true, a.note.via, a.note.reply)
				d.mu.Lock()
				if p, ok := d.outstanding[a.id]; ok && p.acked == a.note {
					delete(d.outstanding, a.id)
				}
				d.mu.Unlock()
				close(a.note.settled)
				c.schedule(d) // for the room freed
			}()
		}
		room -= len(publish)
		if len(msgs) < limit {
			break
		}
	}
	d.mu.Lock()
	lapseNotesLocked(d)
	var next time.Time
	for _, p := range d.outstanding {
		if next.IsZero() || p.expires.Before(next) {
			next = p.expires
		}
	}
	if !next.IsZero() {
		c.armLocked(d, next)
	}
	d.mu.Unlock()
}

// lapseNotesLocked drops the deliveries whose acknowledgement waits for a claim, at the end of a run, when no
// claim of d is in flight: none of d's claims covered their commands, which another consumer holds (or which
// are gone, or a claim failed). Their acknowledgements lapse with the deliveries now, rather than holding a
// reply (and its device's reading) until the deliveries expire. Called with d.mu held.
func lapseNotesLocked(d *deliverer) {
	for id, p := range d.outstanding {
		if p.claimID == "" && p.acked != nil {
			delete(d.outstanding, id)
			close(p.acked.settled)
		}
	}
}

type ackedCommand struct {
	id, claimID string
	note        *ackNote
}

// armLocked sets d's timer to run it at t. Called with d.mu held.
func (c *commandState) armLocked(d *deliverer, t time.Time) {
	wait := max(time.Until(t), time.Millisecond)
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, func() { c.schedule(d) })
		return
	}
	d.timer.Reset(wait)
}

// publish hands one claimed command to the MQTT server as the inline client, at QoS 1, to the device's command
// topic. The server copies it into the inflight store of each subscribed connection; a connection whose
// inflight store or write queue is full drops it, and the claim's expiry brings it back.
func (c *commandState) publish(d *deliverer, m broker.Message) {
	b := c.b
	payload := AppendCommand(make([]byte, 0, len(m.Body)+96), m.ID, m.Body, m.TTL, time.Since(m.Created))
	pk := packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1},
		TopicName:   d.topic,
		Payload:     payload,
		PacketID:    1, // the server needs one to accept a QoS 1 packet; each subscriber gets its own
		Properties: packets.Properties{
			ContentType: "application/json",
			User:        []packets.UserProperty{{Key: PropMessageID, Val: m.ID}, {Key: PropQueue, Val: d.key.queue}},
		},
	}
	// Counted first: the device may acknowledge before InjectPacket returns.
	b.count(cCommandsDelivered)
	if err := b.srv.InjectPacket(b.inline, pk); err != nil {
		b.log.Debug("command publish failed", "queue", d.key.queue, "id", m.ID, "error", err)
	}
}

// puback handles a PUBACK read from a connection: if it acknowledges a command the bridge delivered to that
// connection's own device, the command is acknowledged (unless its rule waits for a reply).
func (c *commandState) puback(cl *mqtt.Client, packetID uint16) {
	out, ok := cl.State.Inflight.Get(packetID)
	if !ok || out.FixedHeader.Type != packets.Publish || out.Origin != mqtt.InlineClientId {
		return
	}
	var id, queue string
	for _, p := range out.Properties.User {
		switch p.Key {
		case PropMessageID:
			id = p.Val
		case PropQueue:
			queue = p.Val
		}
	}
	s := c.b.session(cl)
	if id == "" || s == nil || s.device == "" {
		return
	}
	route, ok := c.b.mapper.CommandQueue(queue)
	if !ok || route.Device != s.device || c.b.mapper.ReplyOnly(route.Rule) {
		return
	}
	c.ack(s.caller.Project, route, id, ViaPuback, nil)
}

// ack deletes an acknowledged command under the claim it was delivered with (without a claim when the bridge
// no longer holds one, which succeeds once the claim has expired), posts a status record to the rule's
// results queue, and wakes the deliverer for the room freed.
//
// A command delivered ahead of its claim (deliverEarly) is deleted at once without a claim, which succeeds
// while it is still unclaimed: the acknowledgement need not wait for the claim's store write. If it is claimed
// by then (by the deliverer's claim, or by another consumer), the acknowledgement is kept for the deliverer's
// claim to apply; a command another consumer holds is left to it. The channel returned is then closed once
// the claim has applied it (or its delivery has lapsed); it is nil when the acknowledgement was applied here.
//
// An acknowledgement that finds an earlier one of the same command kept for the claim, or being applied under
// it (a reply after the PUBACK), waits for that one first: its record follows the earlier one's, and a reply's
// PUBACK follows the delete. That wait is bounded by the deliverer's claim in flight and the two store writes
// that apply the earlier acknowledgement; a claim that does not cover the command lets it lapse.
func (c *commandState) ack(project string, route CommandRoute, id, via string, reply []byte) <-chan struct{} {
	c.mu.Lock()
	d := c.byQueue[queueKey{project, route.Queue}]
	c.mu.Unlock()
	if d == nil {
		c.finish(project, route, id, "", false, via, reply)
		return nil
	}
	for {
		d.mu.Lock()
		p, had := d.outstanding[id]
		switch {
		case had && p.acked != nil:
			settled := p.acked.settled
			d.mu.Unlock()
			select {
			case <-settled:
			case <-c.b.ctx.Done():
				return nil
			}
			continue
		case had && p.claimID == "":
			d.mu.Unlock()
			if handled, settled := c.ackUnclaimed(d, project, route, id, via, reply); handled {
				c.schedule(d)
				return settled
			}
			continue // the deliverer's claim covers it now, or an earlier acknowledgement waits for it
		}
		if had {
			delete(d.outstanding, id)
		}
		d.mu.Unlock()
		c.finish(project, route, id, p.claimID, had, via, reply)
		c.schedule(d)
		return nil
	}
}

// ackUnclaimed applies the acknowledgement of a command delivered ahead of its claim. It reports false when
// the deliverer's claim covered the command meanwhile (the caller deletes it under that claim), or when an
// earlier acknowledgement of it is kept for the claim (the caller waits for that). When it leaves the
// acknowledgement to a claim still in flight, it returns the note's settled channel.
func (c *commandState) ackUnclaimed(d *deliverer, project string, route CommandRoute, id, via string, reply []byte) (bool, <-chan struct{}) {
	b := c.b
	err := b.svc.DeleteMessage(c.lazyCtx, project, route.Queue, id, "")
	d.mu.Lock()
	p, had := d.outstanding[id]
	switch {
	case err == nil:
		// Deleted while unclaimed: no claim can cover it any more.
		if had {
			delete(d.outstanding, id)
			if p.acked != nil && p.claimID == "" {
				close(p.acked.settled) // another acknowledgement's, kept meanwhile: it is moot
			}
		}
		d.mu.Unlock()
		b.count(cCommandsAcked)
		c.postResult(project, route, id, via, reply)
		return true, nil
	case had && p.claimID == "" && p.acked == nil:
		// Claimed, and this deliverer's claim has not returned yet (or another consumer holds it): the claim,
		// if it covers the command, applies the acknowledgement.
		p.acked = &ackNote{via: via, reply: append([]byte(nil), reply...), settled: make(chan struct{})}
		d.outstanding[id] = p
		d.mu.Unlock()
		return true, p.acked.settled
	case had:
		d.mu.Unlock()
		return false, nil
	}
	d.mu.Unlock()
	return true, nil // the delivery lapsed meanwhile; a later claim delivers it again
}

// finish deletes an acknowledged command (under claimID) and records its status.
//
// A PUBACK for a delivery the bridge no longer tracks (it came after the delivery's claim had expired, from a
// resumed session say) still acknowledges its command, and so gets a record too, but only if the command is
// there to delete: deleting what is gone succeeds as well (Zaqar's rule), and a record for it would be false.
func (c *commandState) finish(project string, route CommandRoute, id, claimID string, had bool, via string, reply []byte) {
	b := c.b
	if !had && via == ViaPuback {
		if _, err := b.svc.GetMessage(b.ctx, project, route.Queue, id); err != nil {
			b.log.Debug("command acknowledgement not applied", "queue", route.Queue, "id", id, "via", via, "error", err)
			return
		}
		had = true
	}
	err := b.svc.DeleteMessage(c.lazyCtx, project, route.Queue, id, claimID)
	if err != nil {
		b.log.Debug("command acknowledgement not applied", "queue", route.Queue, "id", id, "via", via, "error", err)
	} else if had || via == ViaReply {
		b.count(cCommandsAcked)
		c.postResult(project, route, id, via, reply)
	}
}

func (c *commandState) postResult(project string, route CommandRoute, id, via string, reply []byte) {
	b := c.b
	rq := b.mapper.ResultsQueue(route.Rule, route.Device)
	if rq == "" {
		return
	}
	bufp := b.bodies.Get().(*[]byte)
	defer b.bodies.Put(bufp)
	*bufp = AppendResult((*bufp)[:0], id, route.Device, route.Queue, via, b.now(), reply)
	msg := [1]broker.BodyMessage{{Body: *bufp, ClientID: deviceClientID(project, route.Device)}}
	if _, err := b.svc.PostBodies(c.lazyCtx, project, rq, msg[:]); err != nil {
		b.count(cResultErrors)
		b.log.Warn("command result not stored", "queue", rq, "id", id, "error", err)
	}
}

// reply handles a publish on an ack topic: the payload must name the command ({"id": ...}); the command is
// acknowledged before the reply's own PUBACK, then the reply is routed like any publish.
func (b *Bridge) reply(cl *mqtt.Client, s *session, pk packets.Packet, route CommandRoute) (packets.Packet, error) {
	id, err := ParseReply(pk.Payload)
	if err != nil {
		b.count(cCommandRepliesBad)
		return b.refuse(cl, pk, codeBadReply)
	}
	b.count(cCommandReplies)
	if settled := b.cmd.ack(s.caller.Project, route, id, ViaReply, pk.Payload); settled != nil {
		// The command went out ahead of its claim, which is still being written: the claim applies the
		// acknowledgement when it returns (a few milliseconds), or lets it lapse at the end of the deliverer's
		// run if it does not cover the command. Holding this device's reading until then keeps the promise that
		// a reply's PUBACK means its command is acknowledged.
		select {
		case <-settled:
		case <-b.ctx.Done():
		}
	}
	return pk, nil
}

// postCommand posts an operator's publish on a command topic to the device's command queue, and keeps the
// server from routing it (the deliverer sends it, tracked). A JSON payload is the message body as is; any
// other payload is wrapped as base64 (AppendEnvelope).
func (b *Bridge) postCommand(cl *mqtt.Client, s *session, pk packets.Packet, route CommandRoute) (packets.Packet, error) {
	if s.claims != nil && !s.claims.AllowsQueue(route.Queue) {
		return b.refuse(cl, pk, codeQueueForbidden)
	}
	body := appendPostStart(make([]byte, 0, len(pk.Payload)+256), 0)
	if len(pk.Payload) > 0 && json.Valid(pk.Payload) {
		body = append(body, pk.Payload...)
	} else {
		body = AppendEnvelope(body, pk.Payload, Meta{Topic: pk.TopicName, Device: b.deviceOf(s, cl),
			ReceivedAt: b.now(), ContentType: pk.Properties.ContentType}, true)
	}
	body = append(body, postEnd...)
	if _, err := b.svc.PostMessages(b.ctx, s.caller, route.Queue, body, 0); err != nil {
		b.log.Debug("command over mqtt refused", "queue", route.Queue, "error", err)
		return b.refuse(cl, pk, reasonFor(err))
	}
	b.count(cCommandsPosted)
	return pk, packets.CodeSuccessIgnore
}
