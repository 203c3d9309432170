"""The no-op service the benchmarks run, so that what they measure is the engine."""

from processes.registry import ServiceContext, service


@service("bench.noop")
def noop(ctx: ServiceContext) -> None:
    return None
