package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/spate-io/spate/conf"
)

func configCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "list every configuration key with its type, default and description",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "output `FORMAT`: text or json"},
			&cli.StringFlag{Name: "get", Usage: "print the effective value of `KEY` (spate.yaml, SPATE_PROPERTIES, -D, else its default) instead"},
			dynamicFlag,
		},
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("spate config: unexpected argument %q", c.Args().First())
			}
			if key := c.String("get"); key != "" {
				return printEffective(c, key)
			}
			switch out := c.String("output"); out {
			case "text":
				return writeOptionsText(c.App.Writer, conf.Options())
			case "json":
				return writeOptionsJSON(c.App.Writer, conf.Options())
			default:
				return usageErrorf("spate config: invalid value %q for --output: want text or json", out)
			}
		},
	}
}

// typeName is an option's type as shown to users; enums list their values.
func typeName(o conf.Option) string {
	if o.Type == conf.TypeEnum {
		return "enum(" + strings.Join(o.Values, "|") + ")"
	}
	return string(o.Type)
}

func writeOptionsText(w io.Writer, opts []conf.Option) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tTYPE\tDEFAULT\tDESCRIPTION")
	for _, o := range opts {
		def := o.Default
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", o.Key, typeName(o), def, o.Doc)
	}
	return tw.Flush()
}

// optionJSON is one option in `spate config --output json`.
type optionJSON struct {
	Key     string   `json:"key"`
	Type    string   `json:"type"`
	Default string   `json:"default"`
	Doc     string   `json:"doc"`
	Values  []string `json:"values"` // [] unless the type is enum
}

func writeOptionsJSON(w io.Writer, opts []conf.Option) error {
	out := make([]optionJSON, len(opts))
	for i, o := range opts {
		out[i] = optionJSON{Key: o.Key, Type: string(o.Type), Default: o.Default, Doc: o.Doc, Values: o.Values}
		if out[i].Values == nil {
			out[i].Values = []string{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// printEffective prints the value key has in the configuration that a
// command would load (the start scripts read the cluster's settings so).
func printEffective(c *cli.Context, key string) error {
	cfg, err := conf.Load(c.StringSlice("D"))
	if err != nil {
		return usageErrorf("spate config: %v", err)
	}
	if v, ok := cfg.Get(key); ok {
		_, err := fmt.Fprintln(c.App.Writer, v)
		return err
	}
	for _, o := range conf.Options() {
		if o.Key == key {
			_, err := fmt.Fprintln(c.App.Writer, o.Default)
			return err
		}
	}
	return usageErrorf("spate config: --get %q: no such key ('spate config' lists them)", key)
}
