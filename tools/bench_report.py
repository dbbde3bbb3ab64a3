#!/usr/bin/env python3
"""Turns Google Benchmark JSON output into the project's benchmark report.

Takes, for each benchmark, the fastest of its repetitions (all from one run
with repetitions randomly interleaved, so the ratios compare like with like;
on a shared machine noise only ever adds time, so the fastest repetition is
the steadiest estimate of the code's own cost) and writes:
  bench/report.json  {"baselines": {name: ns}, "ratios": {name: x}, ...}
  bench/report.md    the tables, the targets and the command that made them
  bench/sendv_latency.svg  sendv latency in CPUID units against payload size

Usage: bench_report.py OUT_DIR COMMAND RESULT.json [RESULT.json ...]
"""

import json
import math
import platform
import sys
from datetime import datetime, timezone

# (ratio key, comparison, target, what it says)
TARGETS = [
    ("sendv_64B_over_cpuid", "<=", 0.01,
     "a 64-byte in-process sendv costs at most 1/100 of a CPUID exit"),
    ("sendv_64KiB_bw_over_memcpy", ">=", 0.7,
     "copying 64 KiB into a ring costs little more than a memcpy"),
    ("sendv_1MiB_bw_over_memcpy", ">=", 0.7,
     "copying 1 MiB into a ring costs little more than a memcpy"),
    ("throughput_2t_over_1t", ">=", 1.6,
     "senders to disjoint rings do not serialise on a shared lock"),
    ("implicit_over_explicit_64B", "<=", 1.05,
     "resolving an implicit destination costs little over naming it"),
    ("policy_over_default_64B", "<=", 1.05,
     "the strict policy (warm cache) costs no more than the default one"),
    ("silo_over_default_64B", "<=", 1.05,
     "SILO mode (capabilities checked on every send) costs no more either"),
    ("default_policy_over_no_policy_64B", "<=", 1.05,
     "the default policy costs almost nothing over no access control"),
    ("lookup_1M_over_10", "<=", 1.5,
     "an implicit send with 1,000,000 table entries against 10"),
    ("sendv_implicit_64B_over_cpuid", "<=", 0.01,
     "a 64-byte implicit sendv costs at most 1/100 of a CPUID exit"),
    ("capture_on_over_off_64B", "<=", 1.5,
     "a running capture (snap 64) costs a sender one more small copy"),
    ("xproc_sendv_rtt_spin_over_cpuid", "<=", 0.25,
     "a hypercall from another process (low-latency) is well under a trap"),
    ("xproc_sendv_rtt_spin_over_pingpong", "<=", 3,
     "... and a few cache-line round trips"),
    ("xproc_sendv_rtt_block_over_eventfd_rtt", "<=", 1.3,
     "blocking mode costs one round of kernel wake-ups"),
    ("xproc_stream_64B_msgs_per_s_over_inproc", ">=", 0.3,
     "a one-way 64-byte stream between two guest processes vs the same "
     "stream between two in-process guests"),
    ("idle_cpu_percent", "<=", 1,
     "the daemon with 8 attached idle guests burns no CPU"),
    ("nest_up_L2_L0_over_sendv_64B", "<=", 3.0,
     "a 64-byte implicit send from L2 up to an L0 guest, read there, vs a "
     "single-level implicit send and read (drainers inline, one thread: "
     "CPU per message; thread wake-ups are measured by the xproc figures)"),
    ("nest_up_L2_L0_over_sendv_4KiB", "<=", 3.0,
     "... the same at 4 KiB"),
    ("nest_down_L0_L2_over_sendv_64B", "<=", 3.0,
     "a 64-byte implicit send from L0 down to an L2 guest (both links "
     "pumped inline), read there, vs a single-level implicit send and read"),
    ("nest_down_L0_L2_over_sendv_4KiB", "<=", 3.0,
     "... the same at 4 KiB"),
    ("nest_percpu_4cpu_over_1cpu", ">=", 1.6,
     "a level's downward delivery with 4 receive buffers drained by 4 "
     "threads vs 1 by 1 (msgs/s): per-buffer drainers do not serialise"),
]

SIZES = [16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576]


def size_label(n):
    if n >= 1 << 20:
        return f"{n >> 20}MiB"
    if n >= 1 << 10:
        return f"{n >> 10}KiB"
    return f"{n}B"


# Every repetition by run_name. Figures bound by kernel wake-ups take the
# median repetition instead of the fastest: on a VM a wake-up costs ~2 us
# or ~30 us by whether the target vCPU had halted, so the fastest of 9 is
# a rare regime, and two such figures' fastest come from different ones.
REPS = {}


def load_fastest(paths):
    """run_name -> its fastest repetition; also the first file's context.
    Fills REPS: run_name -> every repetition."""
    fastest, context = {}, None
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        context = context or data.get("context", {})
        for b in data["benchmarks"]:
            if b.get("run_type") != "iteration" or b.get("error_occurred"):
                continue
            REPS.setdefault(b["run_name"], []).append(b)
            best = fastest.get(b["run_name"])
            if best is None or b["real_time"] < best["real_time"]:
                fastest[b["run_name"]] = b
    return fastest, context


def ns(entry, field="cpu_time"):
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[entry["time_unit"]]
    return entry[field] * scale


def compute(fastest):
    def get(name):
        if name not in fastest:
            sys.exit(f"bench_report: no result for {name}")
        return fastest[name]

    cpuid = ns(get("BM_Cpuid"))
    baselines = {
        "cpuid_ns": cpuid,
        "pingpong_roundtrip_ns": ns(get("BM_PingPong/real_time"), "real_time"),
    }
    for n in SIZES:
        baselines[f"memcpy_{size_label(n)}_ns"] = ns(
            get(f"BM_Memcpy/payload_bytes:{n}"))

    sendv = {}
    for niov in (1, 8):
        for n in SIZES:
            sendv[(n, niov)] = ns(get(f"BM_Sendv/payload_bytes:{n}/iovs:{niov}"))

    t1 = get("BM_SendvThroughput/real_time/threads:1")["items_per_second"]
    t2 = get("BM_SendvThroughput/real_time/threads:2")["items_per_second"]
    ratios = {
        "sendv_64B_over_cpuid": sendv[(64, 1)] / cpuid,
        "sendv_64KiB_bw_over_memcpy":
            baselines["memcpy_64KiB_ns"] / sendv[(65536, 1)],
        "sendv_1MiB_bw_over_memcpy":
            baselines["memcpy_1MiB_ns"] / sendv[(1048576, 1)],
        "throughput_2t_over_1t": t2 / t1,
        "sendv_64B_over_pingpong":
            sendv[(64, 1)] / baselines["pingpong_roundtrip_ns"],
        "notify_null_over_cpuid": ns(get("BM_Notify_Null")) / cpuid,
        "notify_one_query_over_cpuid": ns(get("BM_Notify_OneQuery")) / cpuid,
    }
    for (n, niov), t in sendv.items():
        ratios[f"sendv_{size_label(n)}_{niov}iov_over_cpuid"] = t / cpuid

    explicit = ns(get("BM_SendvExplicitBeside"))
    implicit10 = ns(get("BM_SendvImplicit/table_entries:10"))
    implicit1m = ns(get("BM_SendvImplicit/table_entries:1000000"))
    default_policy = ns(get("BM_SendvPolicy/strict:0"))
    strict_policy = ns(get("BM_SendvPolicy/strict:1"))
    ratios.update({
        "implicit_over_explicit_64B": implicit10 / explicit,
        "policy_over_default_64B": strict_policy / default_policy,
        "silo_over_default_64B":
            ns(get("BM_SendvPolicy/strict:2")) / default_policy,
        "lookup_1M_over_10": implicit1m / implicit10,
        "sendv_implicit_64B_over_cpuid": implicit10 / cpuid,
        "default_policy_over_no_policy_64B": default_policy / explicit,
        "grpc_connect_rtt_over_cpuid":
            ns(get("BM_GrpcConnectDisconnect/real_time"), "real_time") / cpuid,
    })
    ratios["capture_on_over_off_64B"] = (ns(get("BM_SendvCapture/on:1"))
                                         / ns(get("BM_SendvCapture/on:0")))
    ratios.update(xproc_ratios(fastest, get, cpuid, baselines, sendv))
    ratios.update(nest_ratios(get, baselines))
    return baselines, ratios, sendv


def nest_ratios(get, baselines):
    """The nesting figures (bench/nesting_benchmark.cc): per-message CPU
    with the drainers inline against a single-level implicit send and read
    of the same size, and downward throughput by receive buffers."""
    out = {}
    for n in (64, 4096):
        base = ns(get(f"BM_NestSendv/payload_bytes:{n}"))
        baselines[f"nest_sendv_implicit_read_{size_label(n)}_ns"] = base
        out[f"nest_up_L2_L0_over_sendv_{size_label(n)}"] = (
            ns(get(f"BM_NestUp/payload_bytes:{n}")) / base)
        out[f"nest_down_L0_L2_over_sendv_{size_label(n)}"] = (
            ns(get(f"BM_NestDown/payload_bytes:{n}")) / base)
    drain = {c: get(f"BM_NestPercpuDrain/cpus:{c}/manual_time")
             ["items_per_second"] for c in (1, 4)}
    baselines["nest_drain_1cpu_msgs_per_s"] = drain[1]
    out["nest_percpu_4cpu_over_1cpu"] = drain[4] / drain[1]
    return out


def xproc_ratios(fastest, get, cpuid, baselines, sendv):
    """The cross-process figures (bench/xproc_benchmark.cc)."""
    def wall(name):
        return ns(get(name), "real_time")

    spin = wall("BM_XprocSendvRtt/mode:2/real_time")
    block = wall("BM_XprocSendvRtt/mode:1/real_time")
    eventfd = wall("BM_EventfdRtt/real_time")
    baselines["eventfd_rtt_2proc_ns"] = eventfd
    stream = get("BM_XprocStream/real_time")["items_per_second"]
    inproc = get("BM_InprocStream/real_time")["items_per_second"]
    baselines["inproc_stream_64B_msgs_per_s"] = inproc
    idle = [b for name, b in fastest.items()
            if name.startswith("BM_IdleDaemonCpu")]
    if not idle:
        sys.exit("bench_report: no result for BM_IdleDaemonCpu")
    def median_wall(name):
        reps = sorted(ns(b, "real_time") for b in REPS.get(name, []))
        if not reps:
            sys.exit(f"bench_report: no result for {name}")
        return reps[len(reps) // 2]

    block_median = median_wall("BM_XprocSendvRtt/mode:1/real_time")
    eventfd_median = median_wall("BM_EventfdRtt/real_time")
    baselines["eventfd_rtt_2proc_median_ns"] = eventfd_median
    return {
        "xproc_sendv_rtt_block_over_eventfd_rtt":
            block_median / eventfd_median,
        "xproc_sendv_rtt_block_over_eventfd_rtt_fastest": block / eventfd,
        "xproc_sendv_rtt_spin_over_cpuid": spin / cpuid,
        "xproc_sendv_rtt_spin_over_pingpong":
            spin / baselines["pingpong_roundtrip_ns"],
        "xproc_sendv_rtt_block_over_cpuid": block / cpuid,
        "xproc_pingpong_spin_over_cpuid":
            wall("BM_XprocPingPong/real_time") / cpuid,
        "xproc_stream_64B_msgs_per_s_over_inproc": stream / inproc,
        "idle_cpu_percent": idle[0]["idle_cpu_percent"],
        "xproc_notify_null_rtt_spin_over_pingpong":
            wall("BM_XprocNotifyNullRtt/real_time")
            / baselines["pingpong_roundtrip_ns"],
        "nest_xproc_L2_L0_over_xproc_sendv":
            wall("BM_XprocNestUp/real_time") / spin,
    }


def met(value, op, target):
    return value <= target if op == "<=" else value >= target


def svg_plot(sendv):
    """Latency in CPUID units (log) against payload size (log2)."""
    w, h, left, right, top, bottom = 640, 400, 70, 20, 30, 50
    xs = [math.log2(n) for n in SIZES]
    points = {k: v for k, v in sendv.items()}
    cpuid_units = [points[k] for k in points]
    ymin = math.floor(math.log10(min(cpuid_units)))
    ymax = math.ceil(math.log10(max(cpuid_units)))

    def px(x):
        return left + (x - xs[0]) / (xs[-1] - xs[0]) * (w - left - right)

    def py(y):
        return top + (ymax - math.log10(y)) / (ymax - ymin) * (h - top - bottom)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="18" text-anchor="middle">in-process sendv '
           'latency in CPUID exits (lower is better)</text>']
    for d in range(ymin, ymax + 1):
        y = py(10 ** d)
        out.append(f'<line x1="{left}" x2="{w - right}" y1="{y:.1f}" '
                   f'y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" '
                   f'text-anchor="end">1e{d}</text>')
    for n, x in zip(SIZES, xs):
        out.append(f'<text x="{px(x):.1f}" y="{h - bottom + 18}" '
                   f'text-anchor="middle">{size_label(n)}</text>')
    out.append(f'<text x="{w / 2}" y="{h - 8}" text-anchor="middle">'
               'payload</text>')
    colours = {1: "#1f77b4", 8: "#d62728"}
    for niov, colour in colours.items():
        pts = " ".join(f"{px(x):.1f},{py(points[(n, niov)]):.1f}"
                       for n, x in zip(SIZES, xs))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                   'stroke-width="2"/>')
        ly = top + 10 + 16 * (0 if niov == 1 else 1)
        out.append(f'<line x1="{left + 10}" x2="{left + 30}" y1="{ly}" '
                   f'y2="{ly}" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{left + 36}" y="{ly + 4}">{niov} iov'
                   f'{"s" if niov > 1 else ""}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out_dir, command, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    fastest, context = load_fastest(paths)
    baselines, ratios, sendv = compute(fastest)
    sendv_cpuid = {k: v / baselines["cpuid_ns"] for k, v in sendv.items()}

    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = (f'{context.get("num_cpus", "?")} CPUs at '
               f'{context.get("mhz_per_cpu", "?")} MHz, {platform.machine()}')
    report = {
        "generated": when,
        "command": command,
        "machine": machine,
        "statistic": "fastest of 9 randomly interleaved repetitions, one run "
                     "(median for the kernel wake-up bound blocking and "
                     "eventfd round trips)",
        "baselines": {k: round(v, 3) for k, v in baselines.items()},
        "ratios": {k: round(v, 5) for k, v in ratios.items()},
        "targets": {k: {"op": op, "target": t, "met": met(ratios[k], op, t)}
                    for k, op, t, _ in TARGETS},
    }
    with open(f"{out_dir}/report.json", "w") as f:
        json.dump(report, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(f"{out_dir}/sendv_latency.svg", "w") as f:
        f.write(svg_plot(sendv_cpuid))

    md = [f"# Benchmark report", "",
          f"Produced by `{command}` on {when} ({machine}). Every figure is the "
          "fastest of 9 repetitions taken in one run, repetitions of all "
          "benchmarks randomly interleaved (on a shared machine noise only "
          "adds time); ratios compare figures of that same run. The two "
          "figures bound by kernel wake-ups (the blocking-mode round trip "
          "and the two-process eventfd round trip) take the median "
          "repetition: on a VM a wake-up costs ~2 or ~30 us by whether the "
          "target vCPU had halted, and the fastest of each is a rare "
          "regime.", "",
          "## Targets", "",
          "| ratio | measured | target | met | meaning |",
          "|---|---|---|---|---|"]
    for key, op, target, meaning in TARGETS:
        ok = "yes" if met(ratios[key], op, target) else "**no**"
        md.append(f"| `{key}` | {ratios[key]:.4f} | {op} {target} | {ok} | "
                  f"{meaning} |")
    md += ["", "## Baselines (ns)", "", "| baseline | ns |", "|---|---|"]
    for key, value in baselines.items():
        md.append(f"| `{key}` | {value:.1f} |")
    md += ["", "## sendv latency", "",
           "| payload | 1 iov (ns) | 1 iov / CPUID | 8 iovs (ns) | "
           "8 iovs / CPUID | 1 iov bandwidth / memcpy |",
           "|---|---|---|---|---|---|"]
    for n in SIZES:
        memcpy = baselines[f"memcpy_{size_label(n)}_ns"]
        md.append(f"| {size_label(n)} | {sendv[(n, 1)]:.1f} | "
                  f"{sendv_cpuid[(n, 1)]:.4f} | {sendv[(n, 8)]:.1f} | "
                  f"{sendv_cpuid[(n, 8)]:.4f} | {memcpy / sendv[(n, 1)]:.2f} |")
    md += ["", "## Other ratios", "", "| ratio | value |", "|---|---|"]
    for key in ("sendv_64B_over_pingpong", "notify_null_over_cpuid",
                "notify_one_query_over_cpuid",
                "grpc_connect_rtt_over_cpuid",
                "xproc_notify_null_rtt_spin_over_pingpong",
                "xproc_sendv_rtt_block_over_cpuid",
                "xproc_sendv_rtt_block_over_eventfd_rtt_fastest",
                "xproc_pingpong_spin_over_cpuid",
                "nest_xproc_L2_L0_over_xproc_sendv"):
        md.append(f"| `{key}` | {ratios[key]:.4f} |")
    md += ["", "![sendv latency in CPUID units](sendv_latency.svg)", ""]
    with open(f"{out_dir}/report.md", "w") as f:
        f.write("\n".join(md))
    for key, op, target, _ in TARGETS:
        print(f"{key} = {ratios[key]:.4f} (target {op} {target})")


if __name__ == "__main__":
    main()
