package task

// NewGeneralWindowOperator builds a WindowOperator whatever the spec, so tests
// can hold the time-window operator to its output.
func NewGeneralWindowOperator[K comparable, T, ACC, OUT any](ctx *OperatorContext, spec WindowSpec[K, T, ACC, OUT], out Output[OUT]) (OneInput[T], error) {
	return newWindowOperator(ctx, spec, out)
}
