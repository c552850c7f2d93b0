package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/transport"
)

// DataPlane carries the channels between TaskExecutors of different
// processes: it accepts authenticated connections from producers on one
// address, and keeps one outgoing connection per consumer address, each
// multiplexing many logical channels (worker/transport's Mux). A producer
// opens a channel with an OPEN envelope naming the consumer's gate; the
// consumer attaches a network.RemoteReceiver to that channel of the gate
// (creating the gate if its task is not deployed yet) and grants credits.
//
//	producer TM                                  consumer TM
//	RemoteWriter ─OPEN(key)──────────────────▶  Shuffle gate ← RemoteReceiver
//	             ◀──────────────CREDIT(n)──────
//	             ─BUFFER / EVENT─────────────▶  Deliver → Channel → task
//	             ◀──────────CREDIT(1) per recycled buffer
//
// A connection that breaks, or whose peer breaks the protocol, fails every
// channel on it: writers return the error, gates are closed with it, and the
// tasks fail over.
type DataPlane struct {
	auth    transport.Authenticator
	opts    transport.Options
	log     zerolog.Logger
	ln      *transport.Listener
	shuffle *Shuffle
	types   func(jobID string) *task.JobRegistration

	mu  sync.Mutex
	out map[string]*outgoing // by consumer address
	in  map[*transport.Mux]*incoming
}

// channelKey names the consumer end of a channel: the OPEN payload.
type channelKey struct {
	Consumer     task.ExecutionAttemptID `json:"consumer"`
	Side         int                     `json:"side"`
	Channel      int                     `json:"channel"`
	GateChannels int                     `json:"gateChannels"`
	Edge         int                     `json:"edge"`
	Credits      int                     `json:"credits"`
	BatchSize    int                     `json:"batchSize"`
}

type outgoing struct {
	mux     *transport.Mux
	next    int64
	writers map[int64]outChannel
}

type outChannel struct {
	w       task.RemoteChannel
	attempt task.ExecutionAttemptID // the producer's
}

type incoming struct {
	mux      *transport.Mux
	ready    chan struct{} // closed once mux is set
	channels map[int64]inChannel
	credits  *creditAnnouncer
}

type inChannel struct {
	deliver func(network.RemoteMessage) error
	gate    task.Gate
}

// NewDataPlane listens on addr ("host:0" picks a port) for producers of
// other processes; gates are found in shuffle, record types in the graphs of
// the jobs that types returns.
func NewDataPlane(addr string, auth transport.Authenticator, opts transport.Options, shuffle *Shuffle,
	types func(jobID string) *task.JobRegistration, log zerolog.Logger) (*DataPlane, error) {
	ln, err := transport.Listen(addr, auth, opts)
	if err != nil {
		return nil, err
	}
	d := &DataPlane{auth: auth, opts: opts, log: log, ln: ln, shuffle: shuffle, types: types,
		out: map[string]*outgoing{}, in: map[*transport.Mux]*incoming{}}
	go d.accept()
	return d, nil
}

// Addr is the address producers connect to.
func (d *DataPlane) Addr() string { return d.ln.Addr().String() }

// Close stops accepting and closes every connection.
func (d *DataPlane) Close() {
	_ = d.ln.Close()
	d.mu.Lock()
	var muxes []*transport.Mux
	for _, o := range d.out {
		muxes = append(muxes, o.mux)
	}
	for m := range d.in {
		muxes = append(muxes, m)
	}
	d.mu.Unlock()
	for _, m := range muxes {
		_ = m.Close()
	}
}

func (d *DataPlane) accept() {
	for {
		c, err := d.ln.Accept()
		if err != nil {
			return
		}
		in := &incoming{channels: map[int64]inChannel{}, ready: make(chan struct{})}
		mux := transport.NewMux(c, func(e *transport.Envelope) { <-in.ready; d.receive(in, e) },
			func(err error) { <-in.ready; d.lostIncoming(in, err) })
		d.mu.Lock()
		in.mux = mux
		in.credits = newCreditAnnouncer(mux)
		d.in[mux] = in
		d.mu.Unlock()
		close(in.ready)
	}
}

// creditAnnouncer sends the credits of the channels of one incoming
// connection back to their producers, coalesced as Flink's credit
// announcements are: a channel with credit not yet announced is queued once,
// later credits add to its count, and one goroutine writes every queued
// channel's CREDIT in one system call. So a consumer that recycles a buffer
// only counts (no system call on the task's goroutine), and the credits of
// buffers recycled meanwhile, on any channel of the connection, share one
// write.
type creditAnnouncer struct {
	mux  *transport.Mux
	wake chan struct{} // a token: something is queued

	mu      sync.Mutex
	order   []int64         // channels queued, in the order they were
	spare   []int64         // the previous order's memory
	pending map[int64]int32 // credits not yet announced, by channel
}

func newCreditAnnouncer(mux *transport.Mux) *creditAnnouncer {
	a := &creditAnnouncer{mux: mux, wake: make(chan struct{}, 1), pending: map[int64]int32{}}
	go a.run()
	return a
}

// announce queues n more credits of channel id. It never blocks.
func (a *creditAnnouncer) announce(id int64, n int32) {
	a.mu.Lock()
	if _, queued := a.pending[id]; !queued {
		a.order = append(a.order, id)
	}
	a.pending[id] += n
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// run writes what is queued until the connection ends; a failed write ends
// the connection, which fails its channels.
func (a *creditAnnouncer) run() {
	for {
		select {
		case <-a.wake:
		case <-a.mux.Done():
			return
		}
		if a.flush() != nil {
			return
		}
	}
}

// flush sends every queued channel's credits, in the order they were queued.
func (a *creditAnnouncer) flush() error {
	a.mu.Lock()
	order := a.order
	a.order = a.spare[:0]
	all := make([]transport.Envelope, len(order))
	es := make([]*transport.Envelope, len(order))
	for i, id := range order {
		all[i] = transport.Envelope{ChannelId: id, Kind: transport.KindCredit, Credits: a.pending[id]}
		es[i] = &all[i]
		delete(a.pending, id)
	}
	a.spare = order
	a.mu.Unlock()
	if len(es) == 0 {
		return nil
	}
	return a.mux.SendAll(es)
}

// muxLink sends one logical channel's messages on a Mux.
type muxLink struct {
	mux     *transport.Mux
	id      int64
	fail    func(error)      // breaks the connection; nil: close the Mux
	credits *creditAnnouncer // a consumer's: sends its credits; nil: send them at once
}

func (l muxLink) Fail(err error) {
	if l.fail != nil {
		l.fail(err)
		return
	}
	_ = l.mux.Close()
}

func (l muxLink) Send(m network.RemoteMessage) error {
	e := &transport.Envelope{ChannelId: l.id, Payload: m.Payload}
	switch m.Kind {
	case network.MsgBuffer:
		e.Kind = transport.KindBuffer
	case network.MsgEvent:
		e.Kind = transport.KindEvent
	case network.MsgCredit:
		if l.credits != nil {
			l.credits.announce(l.id, int32(m.Credits))
			return nil
		}
		e.Kind, e.Credits = transport.KindCredit, int32(m.Credits)
	case network.MsgError:
		e.Kind = transport.KindError
	default:
		return fmt.Errorf("data plane: cannot send message kind %d", m.Kind)
	}
	return l.mux.Send(e)
}

// receive handles one envelope from a producer. It never blocks.
func (d *DataPlane) receive(in *incoming, e *transport.Envelope) {
	switch e.Kind {
	case transport.KindOpen:
		if err := d.open(in, e); err != nil {
			d.log.Warn().Err(err).Str("peer", in.mux.Peer().Addr.String()).Msg("refused a channel")
			_ = in.mux.Send(&transport.Envelope{ChannelId: e.ChannelId, Kind: transport.KindError, Payload: []byte(err.Error())})
		}
	case transport.KindBuffer, transport.KindEvent:
		d.mu.Lock()
		ch, ok := in.channels[e.ChannelId]
		d.mu.Unlock()
		if !ok {
			return // a channel of an attempt released here: dropped
		}
		kind := network.MsgBuffer
		if e.Kind == transport.KindEvent {
			kind = network.MsgEvent
		}
		if err := ch.deliver(network.RemoteMessage{Kind: kind, Payload: e.Payload}); err != nil {
			d.breakIncoming(in, err)
		}
	case transport.KindClose:
		d.mu.Lock()
		delete(in.channels, e.ChannelId)
		d.mu.Unlock()
	}
}

// open attaches a receiver to the gate channel an OPEN names.
func (d *DataPlane) open(in *incoming, e *transport.Envelope) error {
	var k channelKey
	if err := json.Unmarshal(e.Payload, &k); err != nil {
		return fmt.Errorf("data plane: bad OPEN on channel %d: %w", e.ChannelId, err)
	}
	reg := d.types(k.Consumer.JobID)
	if reg == nil {
		return fmt.Errorf("data plane: OPEN for %v: %w", k.Consumer, ErrUnknownJob)
	}
	g := reg.Graph
	if k.Edge < 0 || k.Edge >= len(g.Edges) || k.GateChannels < 1 || k.Credits < 1 || k.BatchSize < 1 {
		return fmt.Errorf("data plane: OPEN for %v names edge %d of %d, %d channels, %d credits, batch %d", k.Consumer, k.Edge, len(g.Edges), k.GateChannels, k.Credits, k.BatchSize)
	}
	st := task.EdgeType(g, g.Edges[k.Edge])
	gate := d.shuffle.gate(d.shuffle.inputs(k.Consumer), k.Side, st, k.GateChannels, task.TaskKnobs{Credits: k.Credits, BatchSize: k.BatchSize})
	link := muxLink{mux: in.mux, id: e.ChannelId, fail: func(err error) { d.breakIncoming(in, err) }, credits: in.credits}
	deliver, start, err := st.AttachRemote(gate, k.Channel, link)
	if err != nil {
		return fmt.Errorf("data plane: OPEN for %v: %w", k.Consumer, err)
	}
	d.mu.Lock()
	in.channels[e.ChannelId] = inChannel{deliver: deliver, gate: gate}
	d.mu.Unlock()
	return start()
}

// breakIncoming ends a connection whose peer broke the protocol (a message
// that does not decode, a buffer without credit): nothing on it can be
// trusted. The gates of its channels are closed with err first, then the
// connection (whose onClose would forget them without an error).
func (d *DataPlane) breakIncoming(in *incoming, err error) {
	d.log.Warn().Err(err).Str("peer", in.mux.Peer().Addr.String()).Msg("closing a data connection")
	d.lostIncoming(in, err)
	_ = in.mux.Close()
}

// lostIncoming fails the gates of every channel of a broken connection.
func (d *DataPlane) lostIncoming(in *incoming, err error) {
	d.mu.Lock()
	chans := in.channels
	in.channels = map[int64]inChannel{}
	delete(d.in, in.mux)
	d.mu.Unlock()
	if err == nil {
		return // closed here, on purpose
	}
	cause := fmt.Errorf("data connection from %s lost: %w", in.mux.Peer().Addr, err)
	for _, ch := range chans {
		ch.gate.Close(cause)
	}
}

// Open sets up the producer's end of a channel to the consumer served at
// addr, for the producer attempt from.
func (d *DataPlane) Open(ctx context.Context, addr string, from task.ExecutionAttemptID, k channelKey, st task.StreamType) (task.RemoteChannel, error) {
	o, err := d.outgoing(ctx, addr)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	o.next++
	id := o.next
	d.mu.Unlock()
	w, err := st.NewRemoteWriter(muxLink{mux: o.mux, id: id}, k.BatchSize)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(k)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	o.writers[id] = outChannel{w: w, attempt: from}
	d.mu.Unlock()
	if err := o.mux.Send(&transport.Envelope{ChannelId: id, Kind: transport.KindOpen, Payload: payload}); err != nil {
		return nil, fmt.Errorf("data plane: open a channel to %s: %w", addr, err)
	}
	return w, nil
}

// outgoing returns the connection to addr, dialing it once.
func (d *DataPlane) outgoing(ctx context.Context, addr string) (*outgoing, error) {
	d.mu.Lock()
	o := d.out[addr]
	d.mu.Unlock()
	if o != nil {
		return o, nil
	}
	c, err := transport.Dial(ctx, addr, d.auth, d.opts)
	if err != nil {
		return nil, fmt.Errorf("data plane: connect to TaskManager %s: %w", addr, err)
	}
	o = &outgoing{writers: map[int64]outChannel{}}
	o.mux = transport.NewMux(c, func(e *transport.Envelope) { d.credit(o, e) }, func(err error) { d.lostOutgoing(addr, o, err) })
	d.mu.Lock()
	if prev := d.out[addr]; prev != nil { // another producer dialed first
		d.mu.Unlock()
		_ = o.mux.Close()
		return prev, nil
	}
	d.out[addr] = o
	d.mu.Unlock()
	return o, nil
}

// credit handles what a consumer sends back: credits, or its refusal.
func (d *DataPlane) credit(o *outgoing, e *transport.Envelope) {
	d.mu.Lock()
	ch, ok := o.writers[e.ChannelId]
	d.mu.Unlock()
	if !ok {
		return
	}
	switch e.Kind {
	case transport.KindCredit:
		ch.w.AddCredit(int(e.Credits))
	case transport.KindError:
		// The consumer refused the channel, or closed its gate (its task was
		// cancelled): no credit will come. The writer stays listed until its
		// attempt is released, which sends CLOSE.
		ch.w.Close(fmt.Errorf("the consumer closed the channel: %s", e.Payload))
	}
}

// lostOutgoing fails every writer of a broken connection.
func (d *DataPlane) lostOutgoing(addr string, o *outgoing, err error) {
	d.mu.Lock()
	if d.out[addr] == o {
		delete(d.out, addr)
	}
	writers := o.writers
	o.writers = map[int64]outChannel{}
	d.mu.Unlock()
	if err == nil {
		err = errors.New("closed")
	}
	cause := fmt.Errorf("data connection to %s lost: %w", addr, err)
	for _, ch := range writers {
		ch.w.Close(cause)
	}
}

// release closes the channels that producers of one attempt of a job opened.
func (d *DataPlane) release(jobID string, attempt int) {
	d.mu.Lock()
	type closing struct {
		mux *transport.Mux
		id  int64
		w   task.RemoteChannel
	}
	var cs []closing
	for _, o := range d.out {
		for id, ch := range o.writers {
			if ch.attempt.JobID == jobID && ch.attempt.Attempt == attempt {
				cs = append(cs, closing{o.mux, id, ch.w})
				delete(o.writers, id)
			}
		}
	}
	d.mu.Unlock()
	for _, c := range cs {
		c.w.Close(network.ErrGateClosed)
		_ = c.mux.Send(&transport.Envelope{ChannelId: c.id, Kind: transport.KindClose})
	}
}
