"""A small layered (Sugiyama-style) left-to-right layout for process pictures.

1. Cycles are broken by a depth-first walk from the first node: edges back to a node on
   the walk's path are drawn as loops under the picture and take no part in layering.
2. Longest-path layering: a node's column is one past its furthest predecessor's, so every
   forward edge points right. Edges longer than one column get a dummy node per column
   they cross, to be routed around the nodes there.
3. Crossing reduction: barycentre ordering, sweeping down and up the columns, keeping the
   order with the fewest crossings.
4. Rows: each node wants the mean height of its predecessors; an isotonic regression
   (pool adjacent violators) finds the heights nearest to those wishes that keep the
   order and the gaps, so straight paths stay straight and forks fan out around them.
5. Orthogonal waypoints: horizontal runs that bend in the gaps between columns; gateways
   fork from and join at their top and bottom corners.

Pure Python, no database, no third-party code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise

MARGIN = 40
COLUMN_GAP = 80  # between the widest nodes of two columns
ROW_GAP = 60  # between two nodes of a column (room for the label under a gateway or event)
LOOP_GAP = 40  # from the lowest node a loop passes to the loop
LOOP_SPACING = 16  # between two loops
SWEEPS = 8

Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True)
class Node:
    id: str
    width: float
    height: float
    corners: bool = False  # a gateway: forks leave and joins arrive at its top/bottom corners


@dataclass(frozen=True)
class Edge:
    source: str
    target: str


@dataclass
class Layout:
    boxes: dict[str, Box]
    columns: dict[str, int]
    _plan: _Plan

    def route(self, edge: Edge, *, start: Box | None = None) -> list[Point]:
        """The waypoints of `edge`; `start` leaves from that box's bottom instead (a boundary
        event on the source)."""
        return self._plan.route(edge, start)


def layered_layout(nodes: Sequence[Node], edges: Sequence[Edge]) -> Layout:
    """Place `nodes` in columns left to right, in the order they are given where nothing
    else decides (the first node is where the walk starts)."""
    plan = _Plan(nodes, edges)
    return Layout(plan.boxes, plan.column, plan)


class _Plan:
    def __init__(self, nodes: Sequence[Node], edges: Sequence[Edge]) -> None:
        self.nodes = {node.id: node for node in nodes}
        self.edges = list(edges)
        self.out: dict[str, list[str]] = {node.id: [] for node in nodes}
        for edge in self.edges:
            self.out[edge.source].append(edge.target)
        self.row_height = max((node.height for node in nodes), default=0.0)
        self.back = self._back_edges()
        self.column = self._columns()
        self.chains = self._chains()  # forward edge -> the dummy nodes it passes
        self.order = self._ordered_columns()
        self.center_y = self._rows()
        self.column_x, self.column_width = self._column_geometry()
        self.boxes = {node_id: self._box(node) for node_id, node in self.nodes.items()}
        self.loop_rank = {
            (e.source, e.target): 0 for e in self.edges if (e.source, e.target) in self.back
        }
        for rank, key in enumerate(self.loop_rank):
            self.loop_rank[key] = rank

    # 1. cycles ----------------------------------------------------------------------------
    def _back_edges(self) -> set[tuple[str, str]]:
        back: set[tuple[str, str]] = set()
        state: dict[str, int] = {}  # 1 on the walk's path, 2 done
        for root in self.nodes:
            if root in state:
                continue
            state[root] = 1
            stack = [(root, iter(self.out[root]))]
            while stack:
                node_id, targets = stack[-1]
                target = next(targets, None)
                if target is None:
                    state[node_id] = 2
                    stack.pop()
                elif state.get(target) == 1:
                    back.add((node_id, target))
                elif target not in state:
                    state[target] = 1
                    stack.append((target, iter(self.out[target])))
        return back

    def _forward(self) -> list[Edge]:
        return [e for e in self.edges if (e.source, e.target) not in self.back]

    # 2. columns ---------------------------------------------------------------------------
    def _columns(self) -> dict[str, int]:
        preds: dict[str, set[str]] = {node_id: set() for node_id in self.nodes}
        for edge in self._forward():
            preds[edge.target].add(edge.source)
        column: dict[str, int] = {}
        pending = list(self.nodes)
        while pending:  # the forward edges are acyclic, so every pass places at least one
            rest = []
            for node_id in pending:
                if all(p in column for p in preds[node_id]):
                    column[node_id] = max((column[p] + 1 for p in preds[node_id]), default=0)
                else:
                    rest.append(node_id)
            pending = rest
        return column

    def _chains(self) -> dict[tuple[str, str], list[str]]:
        chains: dict[tuple[str, str], list[str]] = {}
        for edge in self._forward():
            key = (edge.source, edge.target)
            if key in chains:
                continue
            first, last = self.column[edge.source], self.column[edge.target]
            dummies = [f"\0{edge.source}\0{edge.target}\0{c}" for c in range(first + 1, last)]
            for number, dummy in enumerate(dummies):
                self.column[dummy] = first + 1 + number
            chains[key] = dummies
        return chains

    # 3. order within columns --------------------------------------------------------------
    def _links(self) -> list[tuple[str, str]]:
        """Every forward edge as links between neighbouring columns, through its dummies."""
        links = []
        for (source, target), dummies in self.chains.items():
            path = [source, *dummies, target]
            links.extend(pairwise(path))
        return links

    def _ordered_columns(self) -> list[list[str]]:
        width = max(self.column.values(), default=0) + 1
        order: list[list[str]] = [[] for _ in range(width)]
        for node_id in self._walk_order():
            order[self.column[node_id]].append(node_id)
        links = self._links()
        preds: dict[str, list[str]] = {n: [] for n in self.column}
        succs: dict[str, list[str]] = {n: [] for n in self.column}
        for source, target in links:
            succs[source].append(target)
            preds[target].append(source)
        best, fewest = [list(c) for c in order], _crossings(order, links)
        for sweep in range(SWEEPS):
            down = sweep % 2 == 0
            columns = range(1, width) if down else range(width - 2, -1, -1)
            for c in columns:
                fixed = order[c - 1] if down else order[c + 1]
                position = {n: i for i, n in enumerate(fixed)}
                neighbours = preds if down else succs
                order[c] = _by_barycentre(order[c], neighbours, position)
            crossings = _crossings(order, links)
            if crossings < fewest:
                best, fewest = [list(c) for c in order], crossings
        return best

    def _walk_order(self) -> list[str]:
        """Nodes (and dummies) in depth-first order from the first node, declared order of
        targets first: the first way on from a step stays on top."""
        seen: dict[str, None] = {}
        for root in self.nodes:
            stack = [root]
            while stack:
                node_id = stack.pop()
                if node_id in seen:
                    continue
                seen[node_id] = None
                for target in reversed(self.out.get(node_id, [])):
                    for dummy in self.chains.get((node_id, target), []):
                        seen.setdefault(dummy, None)
                    stack.append(target)
        for dummies in self.chains.values():
            for dummy in dummies:
                seen.setdefault(dummy, None)
        return list(seen)

    # 4. rows ------------------------------------------------------------------------------
    def _height(self, node_id: str) -> float:
        node = self.nodes.get(node_id)
        return node.height if node else 0.0

    def _pitch(self, node_id: str) -> float:
        """The height a node takes in its column: every node as much as the tallest, so
        that columns holding different kinds of nodes keep the same rows."""
        return self.row_height if node_id in self.nodes else 0.0

    def _rows(self) -> dict[str, float]:
        preds: dict[str, list[str]] = {n: [] for n in self.column}
        for source, target in self._links():
            preds[target].append(source)
        center: dict[str, float] = {}
        for column in self.order:
            gaps = [
                (self._pitch(a) + self._pitch(b)) / 2 + (ROW_GAP if b in self.nodes else 24)
                for a, b in pairwise(column)
            ]
            offsets = [0.0, *accumulate(gaps)]
            first_child: dict[str, float] = {}  # a predecessor's first successor's offset
            wishes = []
            for node_id, offset in zip(column, offsets, strict=True):
                # Level with the highest predecessor, and below its earlier successors: the
                # first way on from a step runs straight, the others fan out under it.
                wish = [
                    center[p] + offset - first_child.setdefault(p, offset)
                    for p in preds[node_id]
                    if p in center
                ]
                wishes.append(min(wish, default=0.0))
            for node_id, y in zip(column, _nearest_in_order(wishes, gaps), strict=True):
                center[node_id] = y
        top = min((center[n] - self._height(n) / 2 for n in center), default=0.0)
        return {n: y - top + MARGIN for n, y in center.items()}

    # 5. geometry --------------------------------------------------------------------------
    def _column_geometry(self) -> tuple[list[float], list[float]]:
        widths = [
            max((self.nodes[n].width for n in c if n in self.nodes), default=0.0)
            for c in self.order
        ]
        xs, x = [], float(MARGIN)
        for width in widths:
            xs.append(x)
            x += width + COLUMN_GAP
        return xs, widths

    def _box(self, node: Node) -> Box:
        c = self.column[node.id]
        x = self.column_x[c] + (self.column_width[c] - node.width) / 2
        return Box(x, self.center_y[node.id] - node.height / 2, node.width, node.height)

    def route(self, edge: Edge, start: Box | None) -> list[Point]:
        source, target = self.boxes[edge.source], self.boxes[edge.target]
        if (edge.source, edge.target) in self.back:
            rank = self.loop_rank[(edge.source, edge.target)]
            return self._loop(start or source, target, edge.source == edge.target, rank)
        lanes = [self.center_y[d] for d in self.chains[(edge.source, edge.target)]]
        first_column = self.column[edge.source] + 1
        corners_out = self.nodes[edge.source].corners and start is None
        corners_in = self.nodes[edge.target].corners
        if start is not None:
            points = [(start.cx, start.bottom)]
            y = lanes[0] if lanes else target.cy
            if y > start.bottom:
                points.append((start.cx, y))
            else:  # the target is level with the step or above: down, then round
                y = start.bottom + ROW_GAP / 3
                points.append((start.cx, y))
        elif corners_out and abs((lanes[0] if lanes else target.cy) - source.cy) > 1:
            y = lanes[0] if lanes else target.cy
            points = [(source.cx, source.y if y < source.cy else source.bottom), (source.cx, y)]
        else:
            y = source.cy
            points = [(source.right, y)]
        for offset, lane in enumerate([*lanes, target.cy]):
            column = first_column + offset
            is_target = offset == len(lanes)
            if abs(lane - y) <= 1:
                continue
            if is_target and corners_in:
                points.append((target.cx, y))
                points.append((target.cx, target.y if y < target.cy else target.bottom))
                return _simplified(points)
            bend = self.column_x[column] - COLUMN_GAP / 2
            points += [(bend, y), (bend, lane)]
            y = lane
        points.append((target.x, y))
        return _simplified(points)

    def _loop(self, source: Box, target: Box, itself: bool, rank: int) -> list[Point]:
        """A back edge: down from the source, left under everything between, up into the
        target."""
        low = min(source.x, target.x)
        high = max(source.right, target.right)
        floor = max(b.bottom for b in self.boxes.values() if b.right >= low and b.x <= high)
        floor += LOOP_GAP + LOOP_SPACING * rank
        out_x = source.x + source.width * 0.7 if itself else source.cx
        in_x = target.x + target.width * 0.3 if itself else target.cx
        return [(out_x, source.bottom), (out_x, floor), (in_x, floor), (in_x, target.bottom)]


def _by_barycentre(
    column: list[str], neighbours: dict[str, list[str]], position: dict[str, int]
) -> list[str]:
    keyed = []
    for index, node_id in enumerate(column):
        placed = [position[n] for n in neighbours[node_id] if n in position]
        keyed.append((sum(placed) / len(placed) if placed else index, index, node_id))
    return [node_id for _, _, node_id in sorted(keyed)]


def _crossings(order: list[list[str]], links: list[tuple[str, str]]) -> int:
    position = {n: i for column in order for i, n in enumerate(column)}
    by_column: dict[int, list[tuple[int, int]]] = {}
    column_of = {n: c for c, column in enumerate(order) for n in column}
    for source, target in links:
        by_column.setdefault(column_of[source], []).append((position[source], position[target]))
    count = 0
    for pairs in by_column.values():
        for i, (a1, b1) in enumerate(pairs):
            for a2, b2 in pairs[i + 1 :]:
                count += (a1 - a2) * (b1 - b2) < 0
    return count


def _nearest_in_order(wishes: list[float], gaps: list[float]) -> list[float]:
    """The heights nearest (least squares) to `wishes` with y[i+1] - y[i] >= gaps[i]:
    shift each wish by the gaps before it, then pool adjacent violators."""
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    blocks: list[list[float]] = []  # [mean, count]
    for wish, offset in zip(wishes, offsets, strict=True):
        blocks.append([wish - offset, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, count = blocks.pop()
            previous = blocks[-1]
            previous[0] = (previous[0] * previous[1] + mean * count) / (previous[1] + count)
            previous[1] += count
    flat = [mean for mean, count in blocks for _ in range(int(count))]
    return [z + offset for z, offset in zip(flat, offsets, strict=True)]


def _simplified(points: list[Point]) -> list[Point]:
    """Without repeated points and without middle points of straight runs."""
    kept: list[Point] = []
    for point in points:
        if kept and abs(kept[-1][0] - point[0]) < 0.5 and abs(kept[-1][1] - point[1]) < 0.5:
            continue
        if len(kept) >= 2:
            (x1, y1), (x2, y2) = kept[-2], kept[-1]
            if (abs(x1 - x2) < 0.5 and abs(x2 - point[0]) < 0.5) or (
                abs(y1 - y2) < 0.5 and abs(y2 - point[1]) < 0.5
            ):
                kept[-1] = point
                continue
        kept.append(point)
    return kept
