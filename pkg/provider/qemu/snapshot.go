package qemu

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faasdev/faas/pkg/bundle"
	"github.com/faasdev/faas/pkg/faashome"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/vmimage"
	"github.com/faasdev/faas/pkg/vminit"
)

// Warm starts from snapshots (Firecracker's snapshots, Lambda's
// SnapStart). Once per image, QEMU, agent, runtime, VM size and
// acceleration, a VM boots until its init is ready for an instance (the
// runtime's interpreter run once, no share mounted, no secret given), and
// its state is saved (QMP stop, then a migration to a file descriptor
// passed over QMP: QEMU 7.2 has no file: target, and exec: is a shell).
// Instances then start from it: QEMU with -incoming fd:N, the same
// devices, a fresh copy-on-write layer over the snapshot's own layer (the
// disk as the saved memory knows it) and shares, port and token of their
// own; faas sends the instance its config (token, a seed for its random
// number generator, the time) over the control port, and init mounts
// the shares and starts the agent. A snapshot that does not restore is
// discarded and the instance boots.

// SnapshotsEnv turns warm starts from snapshots off ("off"): every
// instance boots.
const SnapshotsEnv = "FAAS_QEMU_SNAPSHOTS"

// snapVersion changes when what a snapshot holds changes.
const snapVersion = 1

// The files of a snapshot, in the image's snapshots/<key>/, and the
// instance's link to its layer.
const (
	snapDir      = "snapshots"
	snapState    = "state"
	snapManifest = "snapshot.json"
	baseFile     = "base.qcow2"
)

// snapshot is a snapshot's manifest: what it was made from (its key is
// the sha256 of that), and how.
type snapshot struct {
	Version  int      `json:"version"`
	Image    string   `json:"image"`
	QEMU     string   `json:"qemu"`
	Agent    string   `json:"agent_sha256"`
	Runtime  string   `json:"runtime"`
	Warm     []string `json:"warm"`
	CPUs     int      `json:"cpus"`
	MemoryMB int64    `json:"memory_mb"`
	Disk     string   `json:"disk"`
	Accel    string   `json:"accel"`
	// Cmdline is the kernel command line it booted with (the instances
	// restored from it are given the same).
	Cmdline    string    `json:"cmdline,omitempty"`
	Created    time.Time `json:"created,omitzero"`
	BootMS     int64     `json:"boot_ms,omitempty"`
	SaveMS     int64     `json:"save_ms,omitempty"`
	StateBytes int64     `json:"state_bytes,omitempty"`
}

func (s snapshot) key() string {
	k := s
	k.Cmdline, k.Created, k.BootMS, k.SaveMS, k.StateBytes = "", time.Time{}, 0, 0, 0
	b, _ := json.Marshal(k)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// warmCommand is what a snapshot's init runs once: the runtime's
// interpreter importing what its worker imports (pkg/agent/bootstrap).
func warmCommand(runtime string) []string {
	switch function.Runtime(runtime) {
	case function.Python:
		return []string{"/usr/bin/python3", "-c", "import importlib.util, json, os, struct, sys, time, traceback, inspect, shutil, asyncio"}
	case function.Node:
		return []string{"/usr/bin/node", "-e", `require("fs"); require("url"); require("path")`}
	}
	return nil
}

// fileSums caches the sha256 of files by path, size and modification time.
var fileSums sync.Map

func fileSum(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	id := path + " " + strconv.FormatInt(fi.Size(), 10) + " " + strconv.FormatInt(fi.ModTime().UnixNano(), 10)
	if v, ok := fileSums.Load(id); ok {
		return v.(string), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	fileSums.Store(id, sum)
	return sum, nil
}

// snapshotFor is the manifest of the snapshot an instance of st's size
// and runtime restores from.
func (p *Provider) snapshotFor(st state, agent, runtime string) (snapshot, error) {
	sum, err := fileSum(agent)
	if err != nil {
		return snapshot{}, err
	}
	fi, err := os.Stat(p.Bin)
	if err != nil {
		return snapshot{}, err
	}
	return snapshot{Version: snapVersion, Image: st.Image, QEMU: fmt.Sprintf("%s %d %d", p.Bin, fi.Size(), fi.ModTime().UnixNano()),
		Agent: sum, Runtime: runtime, Warm: warmCommand(runtime), CPUs: st.CPUs, MemoryMB: st.MemoryMB,
		Disk: layerSize(st.DiskMB), Accel: st.Accel.Name}, nil
}

// note appends a line of faas' own to an instance's log.
func note(logPath, format string, args ...any) {
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "faas: "+format+"\n", args...)
}

// restoreFromSnapshot starts the instance from its snapshot, making the
// snapshot first when there is none. false: it could not (said in the
// instance's log), and the instance is to boot.
func (p *Provider) restoreFromSnapshot(ctx context.Context, st *state, im vmimage.Image, agent, runtime string) bool {
	if strings.EqualFold(os.Getenv(SnapshotsEnv), "off") {
		return false
	}
	logPath := faashome.Log(p.Home, st.ID)
	want, err := p.snapshotFor(*st, agent, runtime)
	if err != nil {
		note(logPath, "no snapshot: %v; booting", err)
		return false
	}
	key := want.key()
	dir := filepath.Join(im.Dir, snapDir, key)
	var snap snapshot
	if err := faashome.ReadJSON(filepath.Join(dir, snapManifest), &snap); err != nil {
		if snap, err = p.makeSnapshot(ctx, im, agent, want, logPath); err != nil {
			note(logPath, "could not make snapshot %s: %v; booting", key, err)
			return false
		}
	}
	err = p.restore(ctx, st, im, dir, snap)
	if err == nil {
		return true
	}
	if ctx.Err() == nil {
		discard(dir)
		note(logPath, "snapshot %s did not restore (%v): discarded; booting instead", key, err)
	}
	for _, f := range []string{layerFile, baseFile, initrdFile} {
		_ = os.Remove(filepath.Join(p.dir(st.ID), f))
	}
	st.Port, st.PID, st.PIDStart, st.Snapshot = 0, 0, 0, ""
	return false
}

// restore starts st's VM from the snapshot in dir: a layer of its own
// over the snapshot's (hard-linked into the instance's directory, so a
// snapshot discarded meanwhile does not take it away), QEMU loading the
// saved state, then `cont`.
func (p *Provider) restore(ctx context.Context, st *state, im vmimage.Image, dir string, snap snapshot) error {
	idir := p.dir(st.ID)
	base := filepath.Join(idir, baseFile)
	if err := linkFile(filepath.Join(dir, layerFile), base); err != nil {
		return err
	}
	// Its initrd too: QEMU loads it (the saved memory replaces it), and a
	// resize boots the instance from it.
	if err := linkFile(filepath.Join(dir, initrdFile), filepath.Join(idir, initrdFile)); err != nil {
		return err
	}
	if err := p.createLayer(ctx, base, "qcow2", idir, st.DiskMB); err != nil {
		return err
	}
	st.Snapshot = snap.key()
	sp := p.instanceSpec(*st, 0)
	sp.cmdline, sp.incoming = snap.Cmdline, filepath.Join(dir, snapState)
	logPath := faashome.Log(p.Home, st.ID)
	note(logPath, "restoring %s from snapshot %s", st.ID, st.Snapshot)
	var loaded time.Duration
	err := p.run(ctx, st, im, sp, func(v *vm) error {
		start := time.Now()
		q, err := newQMP(v.mon, time.Now().Add(p.BootTimeout))
		if err == nil {
			_, err = q.migration()
			loaded = time.Since(start)
		}
		if err == nil {
			_, err = q.do("cont", nil, nil)
		}
		if err != nil {
			select {
			case <-v.exited:
				return fmt.Errorf("%w: %s", errExited, lastLogLine(logPath))
			case <-time.After(time.Second):
			}
		}
		return err
	})
	if err == nil {
		note(logPath, "%s restored: its state loaded %d ms after QEMU's start, its agent answered at %d ms", st.ID, loaded.Milliseconds(), st.BootMS)
	}
	return err
}

// pruneStale discards the snapshots of another agent or QEMU than want's:
// no instance of this faas restores them again (instances running from
// one keep their links to its files).
func pruneStale(root string, want snapshot) {
	manifests, _ := filepath.Glob(filepath.Join(root, "*", snapManifest))
	for _, m := range manifests {
		var s snapshot
		if faashome.ReadJSON(m, &s) == nil && (s.Agent != want.Agent || s.QEMU != want.QEMU) {
			dir := filepath.Dir(m)
			discard(dir)
			_ = os.Remove(filepath.Join(root, ".lock-"+filepath.Base(dir)))
		}
	}
}

// discard removes a snapshot (renamed first: it is gone at once).
func discard(dir string) {
	tmp := filepath.Join(filepath.Dir(dir), ".rm-"+filepath.Base(dir)+"-"+strconv.Itoa(os.Getpid()))
	if os.Rename(dir, tmp) == nil {
		_ = bundle.RemoveTree(tmp)
	}
}

// makeSnapshot boots a VM as want says, waits until its init is ready
// for an instance, and saves it into the image's snapshots/<key>, made in
// a temporary directory and renamed into place: a failed save leaves
// nothing. One maker per key at a time (a lock); a second finds it made.
func (p *Provider) makeSnapshot(ctx context.Context, im vmimage.Image, agent string, want snapshot, logPath string) (snapshot, error) {
	key := want.key()
	root := filepath.Join(im.Dir, snapDir)
	final := filepath.Join(root, key)
	lctx, cancel := context.WithTimeout(ctx, 2*p.BootTimeout)
	defer cancel()
	lock, err := faashome.LockWait(lctx, filepath.Join(root, ".lock-"+key))
	if err != nil {
		return want, err
	}
	defer lock.Close()
	var snap snapshot
	if faashome.ReadJSON(filepath.Join(final, snapManifest), &snap) == nil {
		return snap, nil
	}
	// Leftovers of a maker that died (kill -9) while holding the lock.
	if old, _ := filepath.Glob(filepath.Join(root, ".tmp-"+key+"-*")); len(old) > 0 {
		for _, d := range old {
			_ = bundle.RemoveTree(d)
		}
	}
	pruneStale(root, want)
	tmp, err := os.MkdirTemp(root, ".tmp-"+key+"-")
	if err != nil {
		return want, err
	}
	defer bundle.RemoveTree(tmp)
	share := filepath.Join(tmp, shareDir)
	for _, d := range []string{filepath.Join(share, "code"), faashome.Envs(share)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return want, err
		}
	}
	if err := writeInitrd(filepath.Join(tmp, initrdFile), im, agent, vminit.Boot{Warm: want.Warm}.Marshal()); err != nil {
		return want, err
	}
	if err := p.createLayer(ctx, im.Rootfs(), "raw", tmp, 0); err != nil {
		return want, err
	}
	want.Cmdline = kernelCmdline(Accel{Name: want.Accel}, tscOnce())
	st := state{ID: "snapshot-" + key, CPUs: want.CPUs, MemoryMB: want.MemoryMB, Accel: Accel{Name: want.Accel, Why: "as the instance"}}
	note(logPath, "making snapshot %s (%s, %d MiB, %d CPUs) for warm starts: its VM boots once, instances restore it", key, want.Runtime, want.MemoryMB, want.CPUs)
	start := time.Now()
	v, err := p.start(&st, im, spec{initrd: filepath.Join(tmp, initrdFile), layer: filepath.Join(tmp, layerFile), share: share, cmdline: want.Cmdline}, logPath)
	if err != nil {
		return want, err
	}
	defer p.kill(st)
	defer v.close()
	deadline := time.Now().Add(p.BootTimeout)
	_ = v.ctl.SetReadDeadline(deadline)
	if line, err := bufio.NewReader(v.ctl).ReadString('\n'); err != nil || line != vminit.ReadyLine {
		select {
		case <-v.exited:
			return want, exitedErr(st.ID, logPath)
		default:
		}
		return want, fmt.Errorf("its init did not say it was ready within %s (%q, %v)", p.BootTimeout, line, err)
	}
	want.BootMS = time.Since(start).Milliseconds()
	if err := save(v, filepath.Join(tmp, snapState), deadline); err != nil {
		return want, err
	}
	want.SaveMS = time.Since(start).Milliseconds() - want.BootMS
	select {
	case <-v.exited: // quit: its files are closed
	case <-time.After(10 * time.Second):
		return want, fmt.Errorf("QEMU did not quit after the save")
	}
	if fi, err := os.Stat(filepath.Join(tmp, snapState)); err == nil {
		want.StateBytes = fi.Size()
	}
	want.Created = time.Now().UTC()
	if err := bundle.RemoveTree(share); err != nil {
		return want, err
	}
	if err := faashome.WriteJSON(filepath.Join(tmp, snapManifest), want); err != nil {
		return want, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return want, err
	}
	note(logPath, "snapshot %s made: boot %d ms, save %d ms, %d MiB of state", key, want.BootMS, want.SaveMS, want.StateBytes>>20)
	return want, nil
}

// save stops the VM and migrates it into path (a descriptor passed over
// QMP with getfd), then quits QEMU.
func save(v *vm, path string, deadline time.Time) error {
	q, err := newQMP(v.mon, deadline)
	if err != nil {
		return err
	}
	if _, err := q.do("stop", nil, nil); err != nil {
		return err
	}
	// The default bandwidth limit (32 MiB/s) is for live migration over a
	// network; the VM is stopped and the target a local file.
	if _, err := q.do("migrate-set-parameters", map[string]any{"max-bandwidth": int64(1) << 40}, nil); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = q.do("getfd", map[string]any{"fdname": "snapshot"}, f)
	f.Close()
	if err != nil {
		return err
	}
	if _, err := q.do("migrate", map[string]any{"uri": "fd:snapshot"}, nil); err != nil {
		return err
	}
	if _, err := q.migration(); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	_, err = q.do("quit", nil, nil)
	if err != nil && !strings.Contains(err.Error(), "EOF") {
		return err
	}
	return nil
}
