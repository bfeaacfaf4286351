package fakemultipass

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

func (c *cli) cmdVersion(args []string) int {
	p, code, ok := c.parseOrUsage("version", args, []opt{formatOpt})
	if !ok {
		return code
	}
	if len(p.pos) > 0 {
		return c.usage("This command takes no arguments")
	}
	if !validFormat(p.get("format")) {
		return c.usage("Invalid format type given.")
	}
	daemon := ""
	if !c.daemonDown() {
		if _, ok := c.connect("version"); ok {
			daemon = daemonVersion
		}
	}
	switch p.get("format") {
	case "json":
		v := map[string]any{"multipass": clientVersion}
		if daemon != "" {
			v["multipassd"] = daemon
		}
		c.stdout.Write(qtJSON(v))
	case "csv":
		fmt.Fprintf(c.stdout, "Multipass,Multipassd\n%s,%s\n", clientVersion, daemon)
	case "yaml":
		fmt.Fprintf(c.stdout, "multipass: %s\n", clientVersion)
		if daemon != "" {
			fmt.Fprintf(c.stdout, "multipassd: %s\n", daemon)
		}
	default:
		fmt.Fprintf(c.stdout, "%-12s%s\n", "multipass", clientVersion)
		if daemon != "" {
			fmt.Fprintf(c.stdout, "%-12s%s\n", "multipassd", daemon)
		}
	}
	return 0
}

func (c *cli) listRelease(in *instance) string {
	if in.Release == "" {
		return "Not Available"
	}
	return "Ubuntu " + in.Release
}

// brokenRunning says whether an instance's IP discovery is broken: only
// running instances are asked for their address.
func (c *cli) brokenRunning(in *instance) bool {
	return c.named(EnvBroken, in.Name) && running(c.state(in))
}

func (c *cli) ipv4(in *instance) []any {
	if running(c.state(in)) && in.IP != "" {
		return []any{in.IP}
	}
	if running(c.state(in)) {
		return []any{"N/A"}
	}
	return []any{}
}

func (c *cli) cmdList(args []string) int {
	p, code, ok := c.parseOrUsage("list", args, []opt{formatOpt, {long: "snapshots"}, {long: "no-ipv4"}})
	if !ok {
		return code
	}
	if len(p.pos) > 0 {
		return c.usage("This command takes no arguments")
	}
	if !validFormat(p.get("format")) {
		return c.usage("Invalid format type given.")
	}
	if code, ok := c.connect("list"); !ok {
		return code
	}
	s, err := c.open()
	if err != nil {
		return c.fail("list", err.Error())
	}
	insts := s.visible()
	if err := s.commit(); err != nil {
		return c.fail("list", err.Error())
	}
	if p.has("snapshots") {
		if p.get("format") == "json" {
			c.stdout.Write(qtJSON(map[string]any{"errors": []any{}, "info": map[string]any{}}))
		} else {
			fmt.Fprintln(c.stderr, "No snapshots found.")
		}
		return 0
	}
	noIP := p.has("no-ipv4")
	if !noIP {
		for _, in := range insts {
			if c.brokenRunning(in) {
				return c.fail("list", "IP not available")
			}
		}
	}
	type row struct {
		name, state, release string
		ips                  []any
	}
	var rows []row
	for _, in := range insts {
		ips := c.ipv4(in)
		if noIP {
			ips = []any{}
		}
		rows = append(rows, row{in.Name, c.state(in), c.listRelease(in), ips})
	}
	switch p.get("format") {
	case "json":
		list := []any{}
		for _, r := range rows {
			list = append(list, map[string]any{"ipv4": r.ips, "name": r.name, "release": r.release, "state": r.state})
		}
		c.stdout.Write(qtJSON(map[string]any{"list": list}))
	case "csv":
		fmt.Fprintln(c.stdout, "Name,State,IPv4,IPv6,Release,AllIPv4")
		for _, r := range rows {
			first := ""
			if len(r.ips) > 0 {
				first = fmt.Sprint(r.ips[0])
			}
			fmt.Fprintf(c.stdout, "%s,%s,%s,,%s,\"%s\"\n", r.name, r.state, first, r.release, joinAny(r.ips, ","))
		}
	case "yaml":
		for _, r := range rows {
			fmt.Fprintf(c.stdout, "%s:\n  - state: %s\n    ipv4:\n", r.name, r.state)
			for _, ip := range r.ips {
				fmt.Fprintf(c.stdout, "      - %s\n", ip)
			}
			fmt.Fprintf(c.stdout, "    release: %s\n", r.release)
		}
	default:
		if len(rows) == 0 {
			fmt.Fprintln(c.stderr, "No instances found.")
			return 0
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "Name\tState\tIPv4\tImage")
		for _, r := range rows {
			ip := "--"
			if len(r.ips) > 0 {
				ip = fmt.Sprint(r.ips[0])
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.name, r.state, ip, r.release)
		}
		tw.Flush()
	}
	return 0
}

func joinAny(v []any, sep string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, sep)
}

// infoEntry is one instance of `info --format json`.
func (c *cli) infoEntry(in *instance, runtime bool) map[string]any {
	st := c.state(in)
	e := map[string]any{
		"cpu_count":      "",
		"disks":          map[string]any{"sda1": map[string]any{}},
		"image_hash":     imageHash(in.Release),
		"image_release":  in.Release,
		"ipv4":           c.ipv4(in),
		"load":           []any{},
		"memory":         map[string]any{},
		"mounts":         map[string]any{},
		"release":        "",
		"snapshot_count": "0",
		"state":          st,
	}
	mounts := e["mounts"].(map[string]any)
	for target, src := range in.Mounts {
		mounts[target] = map[string]any{"gid_mappings": []any{"1000:default"}, "source_path": src, "uid_mappings": []any{"1000:default"}}
	}
	if running(st) && runtime {
		e["cpu_count"] = strconv.Itoa(in.CPUs)
		e["release"] = prettyName(in.Release)
		e["load"] = loadAvg()
		e["memory"] = map[string]any{"total": in.Memory, "used": memoryUsed(in)}
		e["disks"] = map[string]any{"sda1": map[string]any{
			"total": strconv.FormatInt(in.Disk, 10),
			"used":  strconv.FormatInt(diskUsed(c.root(in.Name), in.Disk), 10),
		}}
	}
	return e
}

func (c *cli) cmdInfo(args []string) int {
	p, code, ok := c.parseOrUsage("info", args, []opt{formatOpt, {long: "all"}, {long: "snapshots"}, {long: "no-runtime-information"}})
	if !ok {
		return code
	}
	if !validFormat(p.get("format")) {
		return c.usage("Invalid format type given.")
	}
	if p.has("all") {
		fmt.Fprintln(c.stderr, "Warning: the `--all` flag for the `info` command is deprecated. Please use `info` with no positional arguments for the same effect.")
	}
	if code, ok := c.connect("info"); !ok {
		return code
	}
	s, err := c.open()
	if err != nil {
		return c.fail("info", err.Error())
	}
	var insts []*instance
	var lines []string
	if len(p.pos) == 0 {
		insts = s.visible()
	}
	for _, n := range p.pos {
		name, snap, isSnap := strings.Cut(n, ".")
		in := s.find(name)
		switch {
		case in == nil:
			lines = append(lines, fmt.Sprintf("instance \"%s\" does not exist", name))
		case isSnap:
			lines = append(lines, fmt.Sprintf("snapshot \"%s\" does not exist", snap))
		case !slices.Contains(insts, in):
			insts = append(insts, in)
		}
	}
	runtime := !p.has("no-runtime-information")
	var entries []map[string]any
	if len(lines) == 0 {
		for _, in := range insts {
			if runtime && c.brokenRunning(in) {
				s.close()
				return c.fail("info", "IP not available")
			}
			entries = append(entries, c.infoEntry(in, runtime))
		}
	}
	if err := s.commit(); err != nil {
		return c.fail("info", err.Error())
	}
	if len(lines) > 0 {
		return c.fail("info", notFoundErrors(lines))
	}
	if p.has("snapshots") {
		if p.get("format") == "json" {
			c.stdout.Write(qtJSON(map[string]any{"errors": []any{}, "info": map[string]any{}}))
		} else {
			fmt.Fprintln(c.stderr, "No snapshots found.")
		}
		return 0
	}
	switch p.get("format") {
	case "json":
		info := map[string]any{}
		for i, in := range insts {
			info[in.Name] = entries[i]
		}
		c.stdout.Write(qtJSON(map[string]any{"errors": []any{}, "info": info}))
	case "csv":
		if len(insts) > 0 {
			fmt.Fprintln(c.stdout, "Name,State,Ipv4,Ipv6,Release,Image hash,Image release,Load,Disk usage,Disk total,Memory usage,Memory total,Mounts,AllIPv4,CPU(s),Snapshots")
		}
		for i, in := range insts {
			e := entries[i]
			mem, _ := e["memory"].(map[string]any)
			disk, _ := e["disks"].(map[string]any)["sda1"].(map[string]any)
			first := ""
			if ips := e["ipv4"].([]any); len(ips) > 0 {
				first = fmt.Sprint(ips[0])
			}
			var mounts []string
			for t, src := range in.Mounts {
				mounts = append(mounts, src+" => "+t)
			}
			fmt.Fprintf(c.stdout, "%s,%s,%s,,%s,%s,%s,%s,%v,%v,%v,%v,%s,%s,%s,0\n", in.Name, e["state"], first, e["release"], e["image_hash"], e["image_release"],
				joinAny(e["load"].([]any), " "), orEmpty(disk["used"]), orEmpty(disk["total"]), orEmpty(mem["used"]), orEmpty(mem["total"]),
				strings.Join(mounts, ";"), joinAny(e["ipv4"].([]any), ";"), e["cpu_count"])
		}
	case "yaml":
		for i, in := range insts {
			e := entries[i]
			fmt.Fprintf(c.stdout, "%s:\n  - state: %s\n    snapshot_count: %s\n    image_hash: %s\n    image_release: %q\n    release: %q\n    cpu_count: %q\n    ipv4:\n",
				in.Name, e["state"], e["snapshot_count"], e["image_hash"], e["image_release"], e["release"], e["cpu_count"])
			for _, ip := range e["ipv4"].([]any) {
				fmt.Fprintf(c.stdout, "      - %s\n", ip)
			}
		}
	default:
		for i, in := range insts {
			if i > 0 {
				fmt.Fprintln(c.stdout)
			}
			c.infoTable(in, entries[i])
		}
	}
	return 0
}

func orEmpty(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func (c *cli) infoTable(in *instance, e map[string]any) {
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 1, ' ', 0)
	dash := func(v any) string {
		if s := orEmpty(v); s != "" {
			return s
		}
		return "--"
	}
	ips := e["ipv4"].([]any)
	ip := "--"
	if len(ips) > 0 {
		ip = joinAny(ips, "\n\t")
	}
	fmt.Fprintf(tw, "Name:\t%s\nState:\t%s\nSnapshots:\t0\nIPv4:\t%s\nRelease:\t%s\nImage hash:\t%s (Ubuntu %s)\nCPU(s):\t%s\n",
		in.Name, e["state"], ip, dash(e["release"]), e["image_hash"].(string)[:12], in.Release, dash(e["cpu_count"]))
	load := "--"
	if l := e["load"].([]any); len(l) > 0 {
		load = joinAny(l, " ")
	}
	fmt.Fprintf(tw, "Load:\t%s\n", load)
	if disk, _ := e["disks"].(map[string]any)["sda1"].(map[string]any); len(disk) > 0 {
		used, _ := strconv.ParseInt(disk["used"].(string), 10, 64)
		total, _ := strconv.ParseInt(disk["total"].(string), 10, 64)
		fmt.Fprintf(tw, "Disk usage:\t%s out of %s\n", humanSize(used), humanSize(total))
	} else {
		fmt.Fprintf(tw, "Disk usage:\t--\n")
	}
	if mem, _ := e["memory"].(map[string]any); len(mem) > 0 {
		fmt.Fprintf(tw, "Memory usage:\t%s out of %s\n", humanSize(mem["used"].(int64)), humanSize(mem["total"].(int64)))
	} else {
		fmt.Fprintf(tw, "Memory usage:\t--\n")
	}
	mounts := "--"
	var ms []string
	for t, src := range in.Mounts {
		ms = append(ms, src+" => "+t)
	}
	if len(ms) > 0 {
		slices.Sort(ms)
		mounts = strings.Join(ms, "\n\t")
	}
	fmt.Fprintf(tw, "Mounts:\t%s\n", mounts)
	tw.Flush()
}

// qtJSON writes v as Qt's QJsonDocument::toJson does in multipass 1.16:
// keys sorted, four-space indent, empty containers spread over two lines.
func qtJSON(v any) []byte {
	var b bytes.Buffer
	writeQt(&b, v, 0)
	b.WriteByte('\n')
	return b.Bytes()
}

func writeQt(b *bytes.Buffer, v any, indent int) {
	pad := strings.Repeat("    ", indent)
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteString("{\n")
		for i, k := range keys {
			b.WriteString(pad + "    ")
			writeScalar(b, k)
			b.WriteString(": ")
			writeQt(b, x[k], indent+1)
			if i < len(keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(pad + "}")
	case []any:
		b.WriteString("[\n")
		for i, e := range x {
			b.WriteString(pad + "    ")
			writeQt(b, e, indent+1)
			if i < len(x)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(pad + "]")
	default:
		writeScalar(b, x)
	}
}

func writeScalar(b *bytes.Buffer, v any) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	b.Truncate(b.Len() - 1) // Encode's newline
}
