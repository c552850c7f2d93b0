package task

import (
	"math"

	"github.com/spate-io/spate/worker/network"
)

// WatermarkValve combines the watermarks of an input's channels into the
// input's watermark: the minimum over the channels that are not idle. It never
// goes backwards. A channel that ended counts as having reached the maximum
// watermark. When every channel is idle the input turns idle, and active again
// when one channel is. Pure: the caller feeds it channel events and forwards the
// events it returns.
type WatermarkValve struct {
	wms     []int64
	idle    []bool
	current int64
	allIdle bool
	buf     []Event
}

// NewWatermarkValve returns a valve over n channels, all active, at no watermark.
func NewWatermarkValve(n int) *WatermarkValve {
	v := &WatermarkValve{wms: make([]int64, n), idle: make([]bool, n), current: math.MinInt64}
	for i := range v.wms {
		v.wms[i] = math.MinInt64
	}
	return v
}

// Current is the input's watermark.
func (v *WatermarkValve) Current() int64 { return v.current }

// Watermark records a watermark from channel ch; it returns the events to forward.
func (v *WatermarkValve) Watermark(ch int, ts int64) []Event {
	v.buf = v.buf[:0]
	if ts > v.wms[ch] {
		v.wms[ch] = ts
	}
	if v.idle[ch] { // a watermark from an idle channel makes it active
		v.idle[ch] = false
		v.statusChanged()
	}
	v.advance()
	return v.buf
}

// Status records channel ch turning idle or active.
func (v *WatermarkValve) Status(ch int, idle bool) []Event {
	v.buf = v.buf[:0]
	if v.idle[ch] != idle {
		v.idle[ch] = idle
		v.statusChanged()
		v.advance()
	}
	return v.buf
}

// End records that channel ch ended.
func (v *WatermarkValve) End(ch int) []Event {
	v.buf = v.buf[:0]
	v.wms[ch] = math.MaxInt64
	if v.idle[ch] {
		v.idle[ch] = false
		v.statusChanged()
	}
	v.advance()
	return v.buf
}

func (v *WatermarkValve) statusChanged() {
	all := true
	for _, i := range v.idle {
		all = all && i
	}
	if all != v.allIdle {
		v.allIdle = all
		v.buf = append(v.buf, Event{Kind: network.WatermarkStatus, Idle: all})
	}
}

func (v *WatermarkValve) advance() {
	m, active := int64(math.MaxInt64), false
	for i, wm := range v.wms {
		if !v.idle[i] {
			m, active = min(m, wm), true
		}
	}
	if active && m > v.current {
		v.current = m
		v.buf = append(v.buf, network.WatermarkEvent(m))
	}
}
