// Package top is `faas top`: instances and functions, live.
package top

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
)

// Options of `faas top`.
type Options struct {
	IO       *iostreams.IOStreams
	Backend  func() (cmdutil.Backend, error)
	Interval time.Duration
	Once     bool
	Output   string
}

// NewCmd returns the top command.
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Backend: f.Backend}
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Show instances and functions, live",
		Long: `Show every instance (state, vCPUs, memory and disk used of total, CPU, load,
jobs in flight, idle time) and every function (invocations in the last
minute, errors, p50/p95 duration, cold starts and cost this month over the
last 15 minutes, with a sparkline of invocations per minute), refreshed every
--interval. Each refresh reads the agents' /stats, one instance at a time,
and records the readings as usage samples.

Keys: q quits; n, c, m, j sort instances by name, CPU, memory, jobs.
--once prints one snapshot (tables on a terminal, tab-separated when piped),
as does any run whose stdout is not a terminal; -o json prints one JSON
document.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.Interval, "interval", 2*time.Second, "time between refreshes")
	cmd.Flags().BoolVar(&opts.Once, "once", false, "print one snapshot and exit")
	cmdutil.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

// Run shows the snapshot or the live view.
func Run(ctx context.Context, o *Options) error {
	if o.Interval < 100*time.Millisecond {
		return fault.Usagef("--interval %s: use 100ms or more", o.Interval)
	}
	eng, err := o.Backend()
	if err != nil {
		return err
	}
	if o.Output == cmdutil.OutputJSON || o.Once || !o.IO.IsStdoutTTY() {
		snap, err := eng.Top(ctx, nil)
		if err != nil {
			return err
		}
		if o.Output == cmdutil.OutputJSON {
			return cmdutil.WriteJSON(o.IO.Out, api.NewTop(snap))
		}
		return printOnce(o.IO, snap)
	}
	m := &model{ctx: ctx, eng: eng, io: o.IO, interval: o.Interval, sortKey: "n"}
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx), tea.WithInput(o.IO.In), tea.WithOutput(o.IO.Out))
	if _, err := p.Run(); err != nil && ctx.Err() == nil {
		return fault.Platformf("top: %w", err)
	}
	return m.err
}

func printOnce(io *iostreams.IOStreams, snap engine.Snapshot) error {
	if io.IsStdoutTTY() {
		fmt.Fprintln(io.Out, render(io, snap, "n", 0))
		return nil
	}
	t := io.NewTable()
	for _, in := range snap.Instances {
		t.AddRow("instance", in.ID, in.Function, in.Provider, in.State, strconv.Itoa(in.CPUs), strconv.FormatInt(in.MemoryUsed, 10),
			strconv.FormatInt(in.MemoryTotal, 10), strconv.FormatInt(in.DiskUsed, 10), strconv.FormatInt(in.DiskTotal, 10),
			strconv.FormatFloat(in.CPUPct, 'f', 1, 64), strconv.FormatFloat(in.Load, 'f', 2, 64), strconv.Itoa(in.InFlight),
			strconv.FormatFloat(in.IdleS, 'f', 1, 64), in.Host)
	}
	for _, h := range snap.Hosts {
		t.AddRow("host", h.Name, h.Address, h.State, strconv.Itoa(h.Capacity), strconv.Itoa(h.Load), strconv.Itoa(h.Instances),
			h.LastHeartbeat.UTC().Format(time.RFC3339))
	}
	for _, f := range snap.Functions {
		t.AddRow("function", f.Name, strconv.Itoa(f.Version), strconv.Itoa(f.Instances), strconv.FormatFloat(f.PerMinute, 'f', 0, 64),
			strconv.Itoa(f.Errors), strconv.FormatFloat(f.P50MS, 'f', 2, 64), strconv.FormatFloat(f.P95MS, 'f', 2, 64),
			strconv.Itoa(f.ColdStarts), f.CostUSD, spark(f.Spark))
	}
	return t.Render()
}

type model struct {
	ctx      context.Context
	eng      cmdutil.Backend
	io       *iostreams.IOStreams
	interval time.Duration
	snap     *engine.Snapshot
	sortKey  string
	width    int
	err      error
}

type snapMsg struct {
	snap engine.Snapshot
	err  error
}

type tickMsg struct{}

func (m *model) fetch() tea.Cmd {
	prev := m.snap
	return func() tea.Msg {
		s, err := m.eng.Top(m.ctx, prev)
		return snapMsg{s, err}
	}
}

func (m *model) Init() tea.Cmd { return m.fetch() }

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch msg.String() {
		case "q", "esc", "ctrl+c":
			return m, tea.Quit
		case "n", "c", "m", "j":
			m.sortKey = msg.String()
		}
	case tea.WindowSizeMsg:
		m.width = msg.Width
	case snapMsg:
		if msg.err != nil {
			m.err = msg.err
			return m, tea.Quit
		}
		m.snap = &msg.snap
		return m, tea.Tick(m.interval, func(time.Time) tea.Msg { return tickMsg{} })
	case tickMsg:
		return m, m.fetch()
	}
	return m, nil
}

func (m *model) View() string {
	if m.snap == nil {
		return "faas top: sampling…"
	}
	return render(m.io, *m.snap, m.sortKey, m.interval) + "\n" +
		m.io.Styles().Muted.Render("q quit · sort instances: n name, c cpu, m memory, j jobs")
}

func mib(b int64) string {
	if b <= 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 0, 64) + "M"
}

func render(io *iostreams.IOStreams, snap engine.Snapshot, sortKey string, interval time.Duration) string {
	st := io.Styles()
	var b strings.Builder
	every := ""
	if interval > 0 {
		every = " · every " + interval.String()
	}
	fmt.Fprintf(&b, "%s %s%s · %d instances · %d functions\n\n", st.Bold.Render("faas top"),
		snap.Time.Local().Format("15:04:05"), every, len(snap.Instances), len(snap.Functions))

	ins := append([]engine.InstanceView(nil), snap.Instances...)
	sort.SliceStable(ins, func(i, j int) bool {
		switch sortKey {
		case "c":
			return ins[i].CPUPct > ins[j].CPUPct
		case "m":
			return ins[i].MemoryUsed > ins[j].MemoryUsed
		case "j":
			return ins[i].InFlight > ins[j].InFlight
		}
		return ins[i].ID < ins[j].ID
	})
	t := io.NewTable("INSTANCE", "HOST", "FUNCTION", "PROVIDER", "STATE", "VCPU", "MEMORY", "DISK", "CPU%", "LOAD", "JOBS", "IDLE")
	for _, in := range ins {
		idle := "-"
		if in.State == "ready" {
			idle = time.Duration(in.IdleS * float64(time.Second)).Round(time.Second).String()
		}
		host := in.Host
		if host == "" {
			host = "-"
		}
		t.AddRow(in.ID, host, in.Function, in.Provider, in.State, strconv.Itoa(in.CPUs), mib(in.MemoryUsed)+"/"+mib(in.MemoryTotal),
			mib(in.DiskUsed)+"/"+mib(in.DiskTotal), strconv.FormatFloat(in.CPUPct, 'f', 1, 64),
			strconv.FormatFloat(in.Load, 'f', 2, 64), strconv.Itoa(in.InFlight), idle)
	}
	if len(ins) == 0 {
		b.WriteString(st.Muted.Render("no instances: they start with the first invoke and exit when idle") + "\n")
	} else {
		b.WriteString(t.String())
	}
	b.WriteString("\n")
	ft := io.NewTable("FUNCTION", "VERSION", "INSTANCES", "INV/MIN", "ERRORS", "P50 MS", "P95 MS", "COLD", "COST (MONTH)", "LAST 15 MIN")
	for _, f := range snap.Functions {
		ft.AddRow(f.Name, strconv.Itoa(f.Version), strconv.Itoa(f.Instances), strconv.FormatFloat(f.PerMinute, 'f', 0, 64),
			strconv.Itoa(f.Errors), strconv.FormatFloat(f.P50MS, 'f', 2, 64), strconv.FormatFloat(f.P95MS, 'f', 2, 64),
			strconv.Itoa(f.ColdStarts), "$"+f.CostUSD, spark(f.Spark))
	}
	if len(snap.Functions) == 0 {
		b.WriteString(st.Muted.Render("no functions: deploy one with `faas deploy FILE`") + "\n")
	} else {
		b.WriteString(ft.String())
	}
	if len(snap.Hosts) > 0 {
		ht := io.NewTable("HOST", "ADDRESS", "STATE", "CAPACITY", "LOAD", "INSTANCES", "LAST HEARTBEAT")
		for _, h := range snap.Hosts {
			name := h.Name
			if h.Local {
				name += " (server)"
			}
			ht.AddRow(name, h.Address, h.State, strconv.Itoa(h.Capacity), strconv.Itoa(h.Load), strconv.Itoa(h.Instances),
				h.LastHeartbeat.Local().Format("15:04:05"))
		}
		b.WriteString("\n" + ht.String())
	}
	fmt.Fprintf(&b, "\nautoscale: %s\n", snap.Watcher.Note)
	for _, ev := range snap.Events {
		fmt.Fprintf(&b, "  %s\n", ev)
	}
	return b.String()
}

// spark draws counts as a sparkline.
func spark(counts []int) string {
	bars := []rune("▁▂▃▄▅▆▇█")
	top := 0
	for _, c := range counts {
		top = max(top, c)
	}
	var b strings.Builder
	for _, c := range counts {
		if top == 0 || c == 0 {
			b.WriteRune(' ')
			continue
		}
		b.WriteRune(bars[min(len(bars)-1, (c*len(bars)-1)/top)])
	}
	return b.String()
}
