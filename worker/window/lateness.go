package window

// CleanupTime returns when the operator drops w's contents and trigger state
// for good (Flink's WindowOperator.cleanupTime): for event time, the watermark
// at w.MaxTimestamp()+allowedLateness, saturated at math.MaxInt64 where the
// sum would overflow; for processing time, w.MaxTimestamp() (lateness does not
// apply). At math.MaxInt64 the operator registers no cleanup timer: the window
// lives until the end of input. allowedLateness must be >= 0 (the SDK checks
// it).
func CleanupTime(w Window, allowedLateness int64, eventTime bool) int64 {
	if !eventTime {
		return w.MaxTimestamp()
	}
	return addSat(w.MaxTimestamp(), allowedLateness)
}

// IsLate reports whether w is past its cleanup time on event time (Flink's
// WindowOperator.isWindowLate): eventTime and
// w.MaxTimestamp()+allowedLateness <= watermark. An element is not added to a
// late window; the operator retires a late merged window at once. Windows on
// processing time are never late.
func IsLate(w Window, allowedLateness, watermark int64, eventTime bool) bool {
	return eventTime && CleanupTime(w, allowedLateness, true) <= watermark
}

// IsElementLate reports whether an element with timestamp ts is late (Flink's
// WindowOperator.isElementLate): eventTime and ts+allowedLateness <= watermark,
// with the sum saturated. The operator sends an element to the late side
// output (or drops it) when it was added to no window and IsElementLate holds.
func IsElementLate(ts, allowedLateness, watermark int64, eventTime bool) bool {
	return eventTime && addSat(ts, allowedLateness) <= watermark
}
