/* The fleet map: draws the data fleet_map.html embeds (#fleet-map-data) with Cytoscape.js.
 *
 * Layouts are computed here, not by a force simulation: at 1,000 services and 5,000 edges a
 * force layout takes seconds and lands somewhere new on every visit, while these take
 * milliseconds and put every service in the same place each time.
 * - The whole fleet: one box per team, services in a square grid inside it, boxes packed in
 *   rows, largest teams first. A box is a plain node drawn behind its services, not a
 *   Cytoscape compound parent: compound bounds are recomputed with every edge and made the
 *   map four times slower to build at 1,000 services and 5,000 edges.
 * - A focused neighbourhood (?focus=S): columns, consumers left of S and providers right of it
 *   (two columns each way at depth 2), so the direction of every edge reads left to right.
 * - Teams only (?view=teams): one node per team, one edge per pair of teams with pacts; tens
 *   of nodes, so Cytoscape's force layout is quick there.
 *
 * Clicking a service opens its page; the search box highlights and centres one; Focus shows
 * only its neighbourhood (a plain GET of the filter form, so every view is a link).
 * When the first frame is drawn, window.apigovMap is the Cytoscape instance and
 * document.body.dataset.mapReady is "1" (mapPositionsMs: placing the services; mapLayoutMs:
 * that and building the Cytoscape graph; mapReadyMs: from navigation start to the first
 * frame), which the tests and bench/registry_map.py wait on; mapComplete is "1" once every
 * edge is in (a big map adds all but its broken edges after the first frame).
 */
(function () {
  "use strict";

  var NO_TEAM = "(no team)";
  var CELL_WIDTH = 160;
  var CELL_HEIGHT = 64;
  var TEAM_GAP = 110;
  var COLUMN_WIDTH = 280;
  var TEAM_PADDING = 30;
  var BIG = 1500; // edges: above this, cheaper edges and no edges while panning or zooming
  var CHUNK = 1000; // big maps: compatible edges added per step after the first frame

  function serviceId(name) {
    return "s:" + name;
  }

  function teamId(team) {
    return "t:" + team;
  }

  function teamOf(node) {
    return node.team || NO_TEAM;
  }

  /* One box per team, services in a near-square grid inside; boxes packed row by row into a
   * band about 1.6 times wider than tall (screens are wider than tall). Returns the services'
   * positions and the boxes (centre and size). */
  function teamGrid(nodes, edges) {
    var teams = new Map();
    nodes.forEach(function (node) {
      var team = teamOf(node);
      if (!teams.has(team)) {
        teams.set(team, []);
      }
      teams.get(team).push(node);
    });
    var boxes = [];
    teams.forEach(function (members, team) {
      var columns = Math.ceil(Math.sqrt(members.length));
      var rows = Math.ceil(members.length / columns);
      boxes.push({
        team: team,
        members: members,
        columns: columns,
        width: columns * CELL_WIDTH,
        height: rows * CELL_HEIGHT
      });
    });
    boxes.sort(function (a, b) {
      return b.members.length - a.members.length || (a.team < b.team ? -1 : 1);
    });
    boxes = nearTeamsTogether(boxes, nodes, edges);
    var area = 0;
    var widest = 0;
    boxes.forEach(function (box) {
      area += (box.width + TEAM_GAP) * (box.height + TEAM_GAP);
      widest = Math.max(widest, box.width);
    });
    var band = Math.max(Math.sqrt(area * 1.6), widest);
    var positions = {};
    var frames = [];
    var x = 0;
    var y = 0;
    var rowHeight = 0;
    boxes.forEach(function (box) {
      if (x > 0 && x + box.width > band) {
        x = 0;
        y += rowHeight + TEAM_GAP;
        rowHeight = 0;
      }
      box.members.forEach(function (node, index) {
        positions[serviceId(node.service)] = {
          x: x + (index % box.columns) * CELL_WIDTH + CELL_WIDTH / 2,
          y: y + Math.floor(index / box.columns) * CELL_HEIGHT + CELL_HEIGHT / 2
        };
      });
      frames.push({
        team: box.team,
        x: x + box.width / 2,
        y: y + box.height / 2,
        width: box.width + TEAM_PADDING,
        height: box.height + TEAM_PADDING
      });
      x += box.width + TEAM_GAP;
      rowHeight = Math.max(rowHeight, box.height);
    });
    return { positions: positions, frames: frames };
  }

  /* Teams in packing order: the largest first, then again and again the team with the most
   * edges to the teams already placed, so teams that talk to each other end up close and
   * their edges short. O(teams^2 + edges). */
  function nearTeamsTogether(boxes, nodes, edges) {
    if (boxes.length < 3) {
      return boxes;
    }
    var teamOfService = new Map();
    nodes.forEach(function (node) {
      teamOfService.set(node.service, teamOf(node));
    });
    var weights = new Map();
    function add(a, b) {
      if (!weights.has(a)) {
        weights.set(a, new Map());
      }
      weights.get(a).set(b, (weights.get(a).get(b) || 0) + 1);
    }
    edges.forEach(function (edge) {
      var a = teamOfService.get(edge.consumer);
      var b = teamOfService.get(edge.provider);
      if (a !== undefined && b !== undefined && a !== b) {
        add(a, b);
        add(b, a);
      }
    });
    var order = [boxes[0]];
    var remaining = boxes.slice(1);
    var pull = new Map();
    function attract(team) {
      (weights.get(team) || new Map()).forEach(function (count, other) {
        pull.set(other, (pull.get(other) || 0) + count);
      });
    }
    attract(boxes[0].team);
    while (remaining.length) {
      var best = 0;
      for (var index = 1; index < remaining.length; index += 1) {
        if ((pull.get(remaining[index].team) || 0) > (pull.get(remaining[best].team) || 0)) {
          best = index;
        }
      }
      var chosen = remaining.splice(best, 1)[0];
      order.push(chosen);
      attract(chosen.team);
    }
    return order;
  }

  /* Columns by distance from the focused service: providers right (+), consumers left (-). */
  function focusPositions(data) {
    var providers = new Map();
    var consumers = new Map();
    function link(map, from, to) {
      if (!map.has(from)) {
        map.set(from, []);
      }
      map.get(from).push(to);
    }
    data.edges.forEach(function (edge) {
      link(providers, edge.consumer, edge.provider);
      link(consumers, edge.provider, edge.consumer);
    });
    var column = new Map([[data.focus, 0]]);
    [[providers, 1], [consumers, -1]].forEach(function (step) {
      var frontier = [data.focus];
      for (var distance = 1; distance <= data.depth; distance += 1) {
        var next = [];
        frontier.forEach(function (name) {
          (step[0].get(name) || []).forEach(function (other) {
            if (!column.has(other)) {
              column.set(other, distance * step[1]);
              next.push(other);
            }
          });
        });
        frontier = next;
      }
    });
    var byColumn = new Map();
    data.nodes.forEach(function (node) {
      var at = column.has(node.service) ? column.get(node.service) : 0;
      if (!byColumn.has(at)) {
        byColumn.set(at, []);
      }
      byColumn.get(at).push(node.service);
    });
    var positions = {};
    byColumn.forEach(function (names, at) {
      names.forEach(function (name, index) {
        positions[serviceId(name)] = {
          x: at * COLUMN_WIDTH,
          y: (index - (names.length - 1) / 2) * CELL_HEIGHT * 1.2
        };
      });
    });
    return positions;
  }

  function describeNode(node) {
    var facts = [teamOf(node)];
    if (node.tier !== null && node.tier !== undefined) {
      facts.push("tier " + node.tier);
    }
    if (node.lifecycle) {
      facts.push(node.lifecycle);
    }
    var version = node.absent ? "no version here" : node.versions.join(", ");
    return node.service + " " + version + " (" + facts.join(", ") + ")";
  }

  function describeEdge(edge) {
    var provider = edge.provider + (edge.providerVersion ? "@" + edge.providerVersion : "");
    return edge.consumer + "@" + edge.consumerVersion + " \u2192 " + provider + ": " +
      edge.verdict + " \u2014 " + edge.reason;
  }

  function nodeElements(data, grouped, placed) {
    var found = [];
    if (grouped) {
      placed.frames.forEach(function (frame) {
        found.push({
          group: "nodes",
          data: {
            id: teamId(frame.team),
            label: frame.team,
            kind: "team",
            width: frame.width,
            height: frame.height,
            // Large enough to read when the whole fleet fits the screen.
            fontSize: Math.min(Math.max(18, frame.width / 8), 120)
          },
          position: { x: frame.x, y: frame.y },
          classes: "team"
        });
      });
    }
    data.nodes.forEach(function (node) {
      var classes = [];
      if (node.absent) {
        classes.push("absent");
      }
      if (data.team && teamOf(node) !== data.team) {
        classes.push("outside");
      }
      if (data.focus === node.service) {
        classes.push("focused");
      }
      found.push({
        group: "nodes",
        data: {
          id: serviceId(node.service),
          kind: "service",
          service: node.service,
          team: teamOf(node),
          label: grouped ? node.service : node.service + "\n" + teamOf(node),
          info: describeNode(node)
        },
        position: placed.positions[serviceId(node.service)],
        classes: classes.join(" ")
      });
    });
    return found;
  }

  function edgeElements(edges, classes) {
    return edges.map(function (edge) {
      return {
        group: "edges",
        data: {
          id: "e" + edge.index,
          source: serviceId(edge.consumer),
          target: serviceId(edge.provider),
          verdict: edge.verdict,
          info: describeEdge(edge)
        },
        classes: classes
      };
    });
  }

  function styles(colours, big, wrap) {
    var list = [
      {
        selector: "node",
        style: {
          label: "data(label)",
          shape: "round-rectangle",
          width: 140,
          height: 36,
          "font-size": 12,
          "min-zoomed-font-size": 7,
          "text-valign": "center",
          "text-halign": "center",
          // Two-line labels (name, team) only where there are no team boxes to say the team:
          // wrapping measures every label, a cost the whole fleet's 1,000 labels can skip.
          "text-wrap": wrap ? "wrap" : "none",
          "text-max-width": 136,
          "background-color": "#e8eef5",
          // Manual order: team boxes (0) under edges (1 to 20) under services (30).
          "z-index-compare": "manual",
          "z-index": 30,
          "border-width": 1,
          "border-color": "#37474f",
          color: "#1d232b"
        }
      },
      {
        selector: "node.team",
        style: {
          width: "data(width)",
          height: "data(height)",
          events: "no",
          "z-index": 0,
          "text-valign": "top",
          "font-size": "data(fontSize)",
          "font-weight": "bold",
          "min-zoomed-font-size": 3,
          "background-color": "#f7f9fb",
          "border-color": "#b0bac5",
          color: "#5c6773"
        }
      },
      { selector: "node.absent", style: { "border-style": "dashed", "background-color": "#f4f6f8", color: "#5c6773" } },
      { selector: "node.outside", style: { opacity: 0.5 } },
      { selector: "node.focused", style: { "border-width": 3, "border-color": "#1f5fa8", "background-color": "#dbe7f6" } },
      { selector: "node.found", style: { "border-width": 5, "border-color": "#f9a825", "background-color": "#fff8e1", "z-index": 40 } },
      {
        selector: "edge",
        style: {
          width: 1.5,
          "curve-style": big ? "haystack" : "straight",
          "haystack-radius": 0,
          "line-color": colours.unverified,
          "target-arrow-shape": big ? "none" : "triangle",
          // Arrowheads on 5,000 edges were a tenth of the first frame: on a big map only the
          // edges that stand out (broken, or a found or hovered service's) get one.
          "mid-target-arrow-shape": "none",
          "target-arrow-color": colours.unverified,
          "mid-target-arrow-color": colours.unverified,
          "arrow-scale": 0.9,
          "z-index-compare": "manual",
          "z-index": 1,
          // The whole fleet's edges are a texture; broken ones and a found service's stand out.
          opacity: big ? 0.3 : 0.85
        }
      }
    ];
    Object.keys(colours).forEach(function (verdict) {
      list.push({
        selector: 'edge[verdict = "' + verdict + '"]',
        style: {
          "line-color": colours[verdict],
          "target-arrow-color": colours[verdict],
          "mid-target-arrow-color": colours[verdict]
        }
      });
    });
    // Broken edges are what a reader looks for: thicker and drawn above the others.
    var arrow = big ? "mid-target-arrow-shape" : "target-arrow-shape";
    var broken = { width: 3, opacity: 1, "z-index": 10 };
    broken[arrow] = "triangle";
    list.push({ selector: 'edge[verdict = "broken"]', style: broken });
    var standOut = { width: 4, opacity: 1, "z-index": 20 };
    standOut[arrow] = "triangle";
    list.push({ selector: "edge.lit", style: standOut });
    if (big) {
      // From afar thousands of green lines would hide the red ones: compatible edges are a
      // faint texture until a service is hovered or found.
      list.push({ selector: 'edge[verdict = "compatible"]', style: { opacity: 0.12 } });
      list.push({ selector: "edge.lit", style: { opacity: 1 } });
    }
    return list;
  }

  /* The teams view (?view=teams): every team one node, the pacts between two teams one edge
   * (as wide as there are pacts, coloured by the worst verdict among them). A team opens as
   * the map of its services (?team=T). Tens of nodes, so Cytoscape's force layout (cose) is
   * quick here and clusters teams that talk. */
  function startTeams(data, container, info) {
    var teamOfService = new Map();
    var sizes = new Map();
    data.nodes.forEach(function (node) {
      var team = teamOf(node);
      teamOfService.set(node.service, team);
      sizes.set(team, (sizes.get(team) || 0) + 1);
    });
    var severity = { compatible: 0, unverified: 1, broken: 2 };
    var links = new Map();
    data.edges.forEach(function (edge) {
      var from = teamOfService.get(edge.consumer);
      var to = teamOfService.get(edge.provider);
      if (from === to) {
        return; // inside one team: its own map shows them
      }
      var key = from + "\u0000" + to;
      var link = links.get(key);
      if (!link) {
        link = { from: from, to: to, verdict: "compatible", counts: { compatible: 0, unverified: 0, broken: 0 } };
        links.set(key, link);
      }
      link.counts[edge.verdict] += 1;
      if (severity[edge.verdict] > severity[link.verdict]) {
        link.verdict = edge.verdict;
      }
    });
    var elements = [];
    sizes.forEach(function (count, team) {
      elements.push({
        group: "nodes",
        data: {
          id: teamId(team),
          kind: "team",
          team: team,
          label: team + "\n" + count + " service" + (count === 1 ? "" : "s"),
          size: 40 + 12 * Math.sqrt(count),
          info: team + ": " + count + " service" + (count === 1 ? "" : "s") + " (click to open its map)"
        }
      });
    });
    links.forEach(function (link) {
      var total = link.counts.compatible + link.counts.unverified + link.counts.broken;
      elements.push({
        group: "edges",
        data: {
          id: "l:" + link.from + "\u0000" + link.to,
          source: teamId(link.from),
          target: teamId(link.to),
          verdict: link.verdict,
          pacts: total,
          width: 1.5 + Math.log2(total),
          info: link.from + " \u2192 " + link.to + ": " + total + " pact" + (total === 1 ? "" : "s") + ", " +
            link.counts.broken + " broken, " + link.counts.unverified + " unverified, " +
            link.counts.compatible + " compatible"
        }
      });
    });
    var style = styles(data.colours, false, true).concat([
      {
        selector: "node[kind = 'team']",
        style: {
          width: "data(size)",
          height: "data(size)",
          shape: "ellipse",
          "text-valign": "bottom",
          "text-margin-y": 4,
          "background-color": "#dbe7f6",
          "border-color": "#1f5fa8"
        }
      },
      { selector: "edge", style: { width: "data(width)", "curve-style": "bezier" } }
    ]);
    // Finding a service and focusing on it belong to the services view.
    document.getElementById("map-search").style.display = "none";
    info.textContent = "Click a team to open the map of its services; hover an edge for its pacts.";
    var started = performance.now();
    var cy = window.cytoscape({
      container: container,
      elements: elements,
      style: style,
      layout: { name: "cose", animate: false, randomize: false, nodeDimensionsIncludeLabels: true },
      minZoom: 0.05,
      maxZoom: 3,
      boxSelectionEnabled: false
    });
    if (cy.zoom() > 1.5) {
      cy.zoom(1.5);
      cy.center();
    }
    var layoutMs = performance.now() - started;
    window.apigovMap = cy;
    cy.on("tap", "node[kind = 'team']", function (event) {
      var query = new URLSearchParams(window.location.search);
      query.delete("view");
      query.delete("page");
      query.set("team", event.target.data("team"));
      window.location.assign("?" + query.toString());
    });
    cy.on("mouseover", "node, edge", function (event) {
      info.textContent = event.target.data("info");
    });
    cy.one("render", function () {
      document.body.dataset.mapLayoutMs = layoutMs.toFixed(1);
      document.body.dataset.mapReadyMs = performance.now().toFixed(1);
      document.body.dataset.mapReady = "1";
      document.body.dataset.mapComplete = "1";
    });
  }

  function start() {
    var source = document.getElementById("fleet-map-data");
    var frame = document.getElementById("fleet-map-frame");
    var container = document.getElementById("fleet-map");
    var table = document.getElementById("map-edges");
    if (!source || !frame || !container || typeof window.cytoscape !== "function") {
      if (table) {
        table.open = true; // no map after all (the library did not load): the table is the page
      }
      return;
    }
    var data = JSON.parse(source.textContent);
    var info = document.getElementById("map-info");
    var servicesHref = container.getAttribute("data-services") || "/ui/services/";
    if (!data.nodes.length) {
      if (table) {
        table.open = true; // nothing to draw: the table says so
      }
      document.body.dataset.mapReady = "1";
      return;
    }
    frame.hidden = false;
    var started = performance.now();
    var focused = Boolean(data.focus);
    if (data.view === "teams" && !focused) {
      startTeams(data, container, info);
      return;
    }
    var big = data.edges.length > BIG;
    var placed = focused ? { positions: focusPositions(data), frames: [] } : teamGrid(data.nodes, data.edges);
    var positionsMs = performance.now() - started;
    data.edges.forEach(function (edge, index) {
      edge.index = index;
    });
    // A big map's first frame holds the services and the broken edges (what a reader looks
    // for first); the unverified and then the compatible edges (a faint texture, see styles)
    // follow a chunk at a time. Creating elements is most of the map's cost, so the map is
    // there sooner, and it pans, zooms and answers while the rest arrives.
    var first = big ? data.edges.filter(function (edge) {
      return edge.verdict === "broken";
    }) : data.edges;
    var later = !big ? [] : data.edges.filter(function (edge) {
      return edge.verdict === "unverified";
    }).concat(data.edges.filter(function (edge) {
      return edge.verdict === "compatible";
    }));
    var cy = window.cytoscape({
      container: container,
      elements: nodeElements(data, !focused, placed).concat(edgeElements(first, "")),
      style: styles(data.colours, big, focused),
      layout: { name: "preset", fit: true, padding: 30 },
      minZoom: 0.02,
      maxZoom: 3,
      boxSelectionEnabled: false,
      autoungrabify: true, // positions are the layout's: a dragged service would leave its team
      hideEdgesOnViewport: big,
      textureOnViewport: false,
      pixelRatio: big ? 1 : "auto"
    });
    if (cy.zoom() > 1.5) {
      // A handful of services would otherwise fill the screen with three boxes.
      cy.zoom(1.5);
      cy.center();
    }
    var layoutMs = performance.now() - started;
    window.apigovMap = cy;

    function addLater(from) {
      if (from >= later.length) {
        document.body.dataset.mapCompleteMs = performance.now().toFixed(1);
        document.body.dataset.mapComplete = "1";
        return;
      }
      cy.batch(function () {
        cy.add(edgeElements(later.slice(from, from + CHUNK), ""));
      });
      window.setTimeout(addLater, 0, from + CHUNK);
    }

    cy.one("render", function () {
      document.body.dataset.mapPositionsMs = positionsMs.toFixed(1);
      document.body.dataset.mapLayoutMs = layoutMs.toFixed(1);
      document.body.dataset.mapReadyMs = performance.now().toFixed(1);
      document.body.dataset.mapReady = "1";
      window.setTimeout(addLater, 0, 0);
    });

    cy.on("tap", "node[kind = 'service']", function (event) {
      window.location.assign(servicesHref + encodeURIComponent(event.target.data("service")));
    });
    // In an environment, an edge opens the matrix of its pairs there (the evidence behind it).
    if (data.environment) {
      cy.on("tap", "edge", function (event) {
        window.location.assign(
          container.getAttribute("data-matrix") + "?env=" + encodeURIComponent(data.environment) +
          "&service=" + encodeURIComponent(event.target.source().data("service"))
        );
      });
    }
    cy.on("mouseover", "node[kind = 'service'], edge", function (event) {
      info.textContent = event.target.data("info");
    });
    var lit = cy.collection(); // the found service and its edges
    // A service's own edges stand out while the pointer is on it (a dense map is a texture).
    cy.on("mouseover", "node[kind = 'service']", function (event) {
      event.target.connectedEdges().addClass("lit");
    });
    cy.on("mouseout", "node[kind = 'service']", function (event) {
      event.target.connectedEdges().not(lit).removeClass("lit");
    });

    var search = document.getElementById("map-search");
    var input = document.getElementById("map-search-input");

    function find(text) {
      var wanted = text.trim().toLowerCase();
      if (!wanted) {
        return null;
      }
      var exact = cy.getElementById(serviceId(text.trim()));
      if (exact.nonempty()) {
        return exact;
      }
      var matches = cy.nodes("[kind = 'service']").filter(function (node) {
        return node.data("service").toLowerCase().indexOf(wanted) !== -1;
      });
      return matches.nonempty() ? matches[0] : null;
    }

    search.addEventListener("submit", function (event) {
      event.preventDefault();
      var node = find(input.value);
      lit.removeClass("found lit");
      if (node === null) {
        info.textContent = "No service matching \u201c" + input.value + "\u201d on this map.";
        delete frame.dataset.found;
        return;
      }
      lit = node.union(node.connectedEdges());
      node.addClass("found");
      node.connectedEdges().addClass("lit");
      cy.zoom(Math.max(cy.zoom(), 1));
      cy.center(node);
      input.value = node.data("service");
      info.textContent = node.data("info");
      frame.dataset.found = node.data("service");
    });

    document.getElementById("map-focus-button").addEventListener("click", function () {
      var node = find(input.value);
      var name = node === null ? input.value.trim() : node.data("service");
      if (!name) {
        info.textContent = "Type a service's name first, then Focus.";
        return;
      }
      document.getElementById("map-focus").value = name;
      document.getElementById("map-filters").submit();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
