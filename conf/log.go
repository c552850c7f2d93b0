package conf

import (
	"io"
	"os"

	"github.com/rs/zerolog"
)

// NewLogger returns a logger at log.level that writes to w, with timestamps.
// It writes for people (zerolog's console format) when log.format is console,
// or auto and w is a terminal; JSON lines otherwise. Colours are used only on
// a terminal. It changes none of zerolog's global settings.
func NewLogger(c *Config, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(LogLevel.Get(c))
	if err != nil {
		level = zerolog.WarnLevel // unreachable: log.level's values are zerolog's names
	}
	tty := isTerminal(w)
	switch LogFormat.Get(c) {
	case "console":
		w = zerolog.ConsoleWriter{Out: w, NoColor: !tty, TimeFormat: "15:04:05.000"}
	case "auto":
		if tty {
			w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
		}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
