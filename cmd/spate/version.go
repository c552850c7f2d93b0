package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
var version = "dev"

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:            "version",
		Usage:           "print spate's version",
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("spate version: unexpected argument %q", c.Args().First())
			}
			_, err := fmt.Fprintln(c.App.Writer, versionString())
			return err
		},
	}
}

// versionString is "spate <version> (<go version>[, <vcs revision>])". The
// module version stands in for an unset version when spate was installed
// with go install; "-dirty" marks a build from modified sources.
func versionString() string {
	v, rev := version, ""
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		modified := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" && modified {
			rev += "-dirty"
		}
	}
	if rev == "" {
		return fmt.Sprintf("spate %s (%s)", v, runtime.Version())
	}
	return fmt.Sprintf("spate %s (%s, %s)", v, runtime.Version(), rev)
}
