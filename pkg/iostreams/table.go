package iostreams

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Table prints rows: on a terminal as an aligned table with a header, when
// piped as tab-separated lines without one, so scripts can cut and awk.
type Table struct {
	s       *IOStreams
	headers []string
	rows    [][]string
}

// NewTable starts a table with the given column headers.
func (s *IOStreams) NewTable(headers ...string) *Table {
	return &Table{s: s, headers: headers}
}

// AddRow adds one row; it must have as many cells as there are headers.
func (t *Table) AddRow(cells ...string) { t.rows = append(t.rows, cells) }

// Render writes the table to stdout.
func (t *Table) Render() error {
	if !t.s.stdoutTTY {
		return writeTSV(t.s.Out, t.rows)
	}
	return t.aligned(t.s.Out)
}

// String is the table aligned, with its header, whatever stdout is: for
// full-screen views.
func (t *Table) String() string {
	var b strings.Builder
	_ = t.aligned(&b)
	return b.String()
}

func (t *Table) aligned(w io.Writer) error {
	tbl := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithConfig(tablewriter.Config{
			Header: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoFormat: tw.Off},
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Padding:    tw.CellPadding{Global: tw.Padding{Left: "", Right: "  "}},
			},
			Row: tw.CellConfig{
				Alignment: tw.CellAlignment{Global: tw.AlignLeft},
				Padding:   tw.CellPadding{Global: tw.Padding{Left: "", Right: "  "}},
			},
		}),
	)
	hs := make([]any, len(t.headers))
	for i, h := range t.headers {
		hs[i] = t.s.Styles().Bold.Render(h)
	}
	tbl.Header(hs...)
	for _, r := range t.rows {
		if err := tbl.Append(r); err != nil {
			return err
		}
	}
	return tbl.Render()
}

func writeTSV(w io.Writer, rows [][]string) error {
	clean := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = clean.Replace(c)
		}
		if _, err := fmt.Fprintln(w, strings.Join(cells, "\t")); err != nil {
			return err
		}
	}
	return nil
}
