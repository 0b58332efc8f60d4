#!/usr/bin/env python3
"""Where a server's CPU goes, by phase: reads `perf script -F tid,ip,sym` (call stacks recorded
with --call-graph dwarf) on stdin and prints, as percentages of all samples,

  * each phase (a function given as LABEL=SYMBOL, matched exactly, outermost match wins) with
    the functions it calls directly (OpenSSL's unnamed internals and std:: glue skipped);
  * samples by kind of work (certificate and key decoding, PostgreSQL client, HSM signing,
    signature verification, gRPC/TLS), each sample counted once, in that order.

usage: perf script -F tid,ip,sym -i perf.data | perf_phases.py LABEL=SYMBOL...
"""
import collections
import re
import sys

KINDS = [
    ("certificate/key DER decoding (ASN1_item_d2i, OpenSSL 3 decoders)",
     lambda frame: "ASN1_item_d2i" in frame or "OSSL_DECODER" in frame or frame.startswith("d2i_")),
    ("PostgreSQL client (pqxx, libpq, socket I/O)",
     lambda frame: frame.startswith("PQ") or "pqxx::" in frame),
    ("HSM signing (PKCS#11 C_Sign*)", lambda frame: frame.startswith("C_Sign")),
    ("signature verification (chain, proof, CSR)", lambda frame: "verify" in frame.lower()),
    ("gRPC and TLS", lambda frame: "grpc" in frame.lower() or frame.startswith("tsi_")
     or frame.startswith("SSL_")),
]


def read_stacks(lines):
    """Yields each sample's frames, innermost first."""
    frames = None
    for line in lines:
        if not line.strip():
            if frames:
                yield frames
            frames = None
        elif not line.startswith("\t"):
            frames = []
        elif frames is not None:
            parts = line.split(None, 1)
            frames.append(parts[1].strip() if len(parts) > 1 else "[unknown]")
    if frames:
        yield frames


def short(symbol):
    """The function's qualified name without template and function arguments."""
    symbol = symbol.replace("(anonymous namespace)", "{anonymous}")
    return re.sub(r"[(<].*", "", symbol)[:100]


def glue(symbol):
    return (symbol == "[unknown]" or symbol.startswith("std::") or symbol.startswith("absl::")
            or "InvokeObject" in symbol)


def main():
    phases = [argument.split("=", 1) for argument in sys.argv[1:]]
    by_phase = collections.Counter()
    callees = collections.defaultdict(collections.Counter)
    by_kind = collections.Counter()
    total = 0
    for frames in read_stacks(sys.stdin):
        total += 1
        outermost_first = list(reversed(frames))
        phase, callee = "elsewhere (gRPC threads, other work)", None
        for index, symbol in enumerate(outermost_first):
            label = next((label for label, wanted in phases if symbol == wanted), None)
            if label:
                phase = label
                callee = next((short(s) for s in outermost_first[index + 1:] if not glue(s)),
                              "(itself)")
                break
        by_phase[phase] += 1
        if callee:
            callees[phase][callee] += 1
        kind = next((name for name, matches in KINDS if any(map(matches, frames))), "other")
        by_kind[kind] += 1
    if total == 0:
        print("    no samples")
        return
    percent = lambda count: f"{100.0 * count / total:5.1f}%"
    print(f"    {total} samples; by phase, with the functions each calls:")
    for phase, count in by_phase.most_common():
        print(f"    {percent(count)}  {phase}")
        for callee, callee_count in callees[phase].most_common(10):
            if callee_count * 200 >= total:  # 0.5% and more
                print(f"              {percent(callee_count)}  {callee}")
    print("    by kind of work:")
    for kind, count in by_kind.most_common():
        print(f"    {percent(count)}  {kind}")


if __name__ == "__main__":
    main()
