// The explorer: views over the public API, one request per view change. The location hash holds each view's
// state (#metro/38900?units=index&base_year=2005), so a view can be linked to and the back button works; every
// control only changes the hash, and the hash change draws the view. The browser's HTTP cache does the rest
// (the API's max-age and ETag). Text is set with textContent only: names come from data.
"use strict";

(() => {
  const PALETTE = ["#0b6fb0", "#d55e00", "#009e73", "#b4418e", "#8a6d00"];  // Okabe-Ito, darkened for contrast
  const GAP_FILL = "rgba(110, 110, 110, 0.16)";
  const GOAL = "#b00020";
  const MAX_COMPARE = 5;
  const SEARCH_DELAY_MS = 250;
  const MAP_SIZE = [975, 610];  // us-atlas' own frame for AlbersUsa at scale 1300
  const MAX_RADIUS = 26;

  const dollars = new Intl.NumberFormat("en-US", {style: "currency", currency: "USD", maximumFractionDigits: 0});
  const compactDollars = new Intl.NumberFormat("en-US", {style: "currency", currency: "USD", notation: "compact",
                                                         maximumSignificantDigits: 3});
  const oneDecimal = new Intl.NumberFormat("en-US", {minimumFractionDigits: 1, maximumFractionDigits: 1});
  const twoDecimals = new Intl.NumberFormat("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});

  const UNITS = {
    level: {name: "Exports (US dollars, nominal)", full: v => dollars.format(v), short: v => compactDollars.format(v)},
    index: {name: "Index", full: v => oneDecimal.format(v), short: v => oneDecimal.format(v)},
    percent_change: {name: "Percent change on the year before", full: v => signed(v, oneDecimal) + " %",
                     short: v => signed(v, oneDecimal) + " %"},
    change: {name: "Change on the year before (US dollars)", full: v => signed(v, dollars),
             short: v => signed(v, compactDollars)},
    share: {name: "Share of the national total (%)", full: v => twoDecimals.format(v) + " %",
            short: v => twoDecimals.format(v) + " %"},
  };
  const STATUS = {suppressed: "suppressed by the source", not_available: "not available",
                  conflicting: "conflicting figures in the source"};

  function signed(value, format) {
    return (value > 0 ? "+" : "") + format.format(value);
  }

  // ---- DOM ----------------------------------------------------------------------------------------------------

  const $ = (selector, root = document) => root.querySelector(selector);

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : value);
    }
    node.append(...children.flat().filter(child => child !== null && child !== undefined && child !== false));
    return node;
  }

  function svg(tag, attributes = {}, ...children) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    node.append(...children);
    return node;
  }

  function table(head, rows, caption) {
    return [el("caption", {}, caption), el("thead", {}, el("tr", {}, head.map(h => el("th", {scope: "col"}, h)))),
            el("tbody", {}, rows.map(row => el("tr", {}, row.map((cell, i) => i === 0
              ? el("th", {scope: "row"}, cell) : el("td", {}, cell)))))];
  }

  function sourcesLine(sources) {
    return ["Source: ", ...sources.flatMap((s, i) => [i ? "; " : "",
      s.source_url ? el("a", {href: s.source_url, rel: "external noopener"}, s.title) : s.title,
      ` (${s.publisher}; dataset `, el("a", {href: `/v1/datasets/${encodeURIComponent(s.id)}`}, s.id), ")"]), "."];
  }

  function csvLink(url, name) {
    const csv = url + (url.includes("?") ? "&" : "?") + "format=csv";
    return [el("a", {href: csv, download: name, class: "download"}, "Download these figures (CSV)"), " · ",
            el("a", {href: url}, "the same as JSON")];
  }

  function statusText(point, reason) {
    if (point.note) return point.note;
    if (point.status && point.status !== "ok") return STATUS[point.status] || point.status.replaceAll("_", " ");
    return reason || "not computed";
  }

  // ---- requests -----------------------------------------------------------------------------------------------

  class Problem extends Error {
    constructor(body, status) {
      super(body && body.detail ? body.detail : `The API answered ${status}.`);
    }
  }

  // One channel per purpose: a newer request on a channel cancels the one still running on it.
  const channels = {};

  async function api(url, channel = "view") {
    channels[channel]?.abort();
    const controller = channels[channel] = new AbortController();
    const response = await fetch(url, {headers: {Accept: "application/json"}, signal: controller.signal});
    const body = response.headers.get("Content-Type")?.includes("json") ? await response.json() : null;
    if (!response.ok) {
      const detail = body && body.errors ? Object.entries(body.errors).map(([k, v]) => `${k}: ${v.join(" ")}`) : [];
      throw new Problem(body && {...body, detail: [body.detail, ...detail, body.hint].filter(Boolean).join(" — ")},
                        response.status);
    }
    return body;
  }

  let yearsWithFigures = null;

  // The years the national series has figures for: the choices of the ranking and the map (fetched once a page).
  function dataYears() {
    yearsWithFigures ||= api("/v1/nation/exports", "years")
      .then(body => body.data.filter(p => p.value !== null).map(p => p.year))
      .catch(error => { yearsWithFigures = null; throw error; });
    return yearsWithFigures;
  }

  function query(params) {
    const entries = Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== "");
    const encode = v => encodeURIComponent(v).replaceAll("%2C", ",");  // lists read better with their commas
    return entries.length ? "?" + entries.map(([k, v]) => `${k}=${encode(v)}`).join("&") : "";
  }

  // ---- routing ------------------------------------------------------------------------------------------------

  const views = {};

  function current() {
    const [path, search = ""] = location.hash.slice(1).split("?");
    const [name, ...rest] = path.split("/");
    return {name: views[name] ? name : "metro", arg: rest.length ? decodeURIComponent(rest.join("/")) : null,
            params: new URLSearchParams(search)};
  }

  function go(name, arg, params = {}) {
    location.hash = name + (arg ? "/" + encodeURIComponent(arg) : "") + query(params);
  }

  let shown = null;

  async function route() {
    const hash = location.hash, {name, arg, params} = current();
    for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${name}`;
    for (const link of document.querySelectorAll("nav a")) {
      if (link.dataset.view === name) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    const section = $(`#view-${name}`);
    problem(null);
    if (shown !== name) {
      shown = name;
      document.title = `${$("h1", section).textContent} · Explorer · Metro Exports API`;
    }
    section.dataset.state = "loading";
    try {
      await views[name](section, arg, params);
    } catch (error) {
      if (error.name === "AbortError" || hash !== location.hash) return;  // a newer view change took over
      section.dataset.state = "error";
      for (const result of section.querySelectorAll(".result")) result.hidden = true;  // not the last view's
      problem(error);
      return;
    }
    if (hash !== location.hash) return;
    section.dataset.drawn = hash;  // what the view shows (and a signal for tests and scripts)
    section.dataset.state = "ready";
  }

  function problem(error) {
    const box = $(".problem[role=alert]");
    box.hidden = !error;
    box.textContent = error ? (error instanceof Problem ? error.message
                               : `Something went wrong: ${error.message}`) : "";
  }

  // ---- search as you type (a combobox over /v1/metros?q=) -----------------------------------------------------

  function searchBox(input, onChoose) {
    const list = $("#" + input.getAttribute("aria-controls"));
    let timer = null, options = [], active = -1;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      active = index;
      options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({block: "nearest"});
      }
    }

    function choose(index) {
      const option = options[index];
      if (!option) return;
      close();
      input.value = "";
      onChoose(option.dataset.code, option.dataset.name);
    }

    async function search(text) {
      let body;
      try {
        body = await api(`/v1/metros${query({q: text, page_size: 8})}`, "search:" + input.id);
      } catch (error) {
        if (error.name !== "AbortError") problem(error);
        return;
      }
      options = body.data.map((metro, i) => el("li", {
        id: `${input.id}-option-${i}`, role: "option", "aria-selected": "false", "data-code": metro.code,
        "data-name": metro.name,
        onmousedown: event => event.preventDefault(),  // keep the focus in the box
        onclick: () => choose(i),
      }, metro.name, el("span", {class: "code"}, ` ${metro.code}${metro.current === false ? " (former)" : ""}`)));
      list.replaceChildren(...(options.length ? options
        : [el("li", {class: "none", role: "option", "aria-disabled": "true"}, `No metro matches “${text}”.`)]));
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(options.length ? 0 : -1);
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      const text = input.value.trim();
      if (text.length < 2) { close(); return; }
      timer = setTimeout(() => search(text), SEARCH_DELAY_MS);
    });
    input.addEventListener("keydown", event => {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { highlight(Math.min(active + 1, options.length - 1)); event.preventDefault(); }
      else if (event.key === "ArrowUp") { highlight(Math.max(active - 1, 0)); event.preventDefault(); }
      else if (event.key === "Enter") { choose(active); event.preventDefault(); }
      else if (event.key === "Escape") close();
    });
    input.addEventListener("blur", close);
  }

  // ---- line charts (uPlot) ------------------------------------------------------------------------------------

  const resizing = new ResizeObserver(entries => {
    for (const entry of entries) {
      if (entry.target.classList.contains("map")) scaleLegend(entry.target.closest("figure"));
      const chart = entry.target.chart;
      if (chart && Math.abs(chart.width - entry.target.clientWidth) > 1) chart.setSize(chartSize(entry.target));
    }
  });

  function chartSize(host) {
    const width = Math.max(280, host.clientWidth);
    return {width, height: Math.round(Math.min(380, Math.max(240, width * 0.5)))};
  }

  // spec: {years, units, series: [{label, values, notes, color, dash, points}], gaps: bool, goal: {year, value}}
  function lineChart(host, spec) {
    host.chart?.destroy();
    const format = UNITS[spec.units] || UNITS.level;
    const years = spec.years;
    const opts = {
      ...chartSize(host),
      scales: {
        x: {time: false, range: [Math.min(...years, spec.goal?.year ?? Infinity) - 0.5,
                                 Math.max(...years, spec.goal?.year ?? -Infinity) + 0.5]},
        // dollars from zero, so that heights compare; indexes and changes around their own range
        y: spec.units === "level" ? {range: (u, min, max) => uPlot.rangeNum(Math.min(0, min ?? 0), max ?? 1, 0.1, true)}
                                  : {},
      },
      axes: [
        {incrs: [1, 2, 5, 10], values: (u, ticks) => ticks.map(t => Number.isInteger(t) ? String(t) : ""),
         stroke: "#333", grid: {stroke: "#e3e3e3"}},
        {values: (u, ticks) => ticks.map(format.short), size: 72, stroke: "#333", grid: {stroke: "#e3e3e3"}},
      ],
      series: [
        {label: "Year", value: (u, v) => v === null || v === undefined ? "–" : String(v)},
        ...spec.series.map(s => ({
          label: s.label, stroke: s.color, width: 2, dash: s.dash, spanGaps: false,
          points: {show: s.points !== false, size: 7, fill: s.color, stroke: s.color},
          value: (u, v, si, i) => i === null || i === undefined ? "–" : v === null ? s.notes[i] : format.full(v),
        })),
      ],
      legend: {live: true},
      cursor: {points: {size: 9}, drag: {x: false, y: false}},
      hooks: {
        init: [u => spec.goal && u.over.append(el("span", {class: "goal-label"}, `goal ${spec.goal.year}`))],
        drawAxes: [u => spec.gaps && drawGaps(u, spec.series[0])],
        draw: [u => spec.goal && drawGoal(u, spec.goal)],
      },
    };
    const chart = new uPlot(opts, [years, ...spec.series.map(s => s.values)], host);
    host.chart = chart;
    resizing.observe(host);
    return chart;
  }

  // A band over each year without a figure, under the (broken) line.
  function drawGaps(u, series) {
    const {ctx} = u, top = u.bbox.top, height = u.bbox.height;
    ctx.save();
    ctx.fillStyle = GAP_FILL;
    u.data[0].forEach((year, i) => {
      if (series.values[i] !== null) return;
      const left = Math.max(u.bbox.left, u.valToPos(year - 0.5, "x", true));
      const right = Math.min(u.bbox.left + u.bbox.width, u.valToPos(year + 0.5, "x", true));
      ctx.fillRect(left, top, right - left, height);
    });
    ctx.restore();
  }

  // The goal year: a dashed vertical line, labelled, and the goal itself where it is known.
  function drawGoal(u, goal) {
    $(".goal-label", u.over).style.left = `${u.valToPos(goal.year, "x")}px`;
    const {ctx} = u, x = u.valToPos(goal.year, "x", true);
    ctx.save();
    ctx.strokeStyle = GOAL;
    ctx.lineWidth = 1.5 * devicePixelRatio;
    ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    if (goal.value !== null && goal.value !== undefined) {
      const y = u.valToPos(goal.value, "y", true), r = 6 * devicePixelRatio;
      ctx.setLineDash([]);
      ctx.fillStyle = GOAL;
      ctx.beginPath();
      ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y);
      ctx.closePath();
      ctx.fill();
    }
    ctx.restore();
  }

  // Runs of years without a figure, by status; a run's reason is given once if its years share it (a note often
  // names its own year: then each year's reason is in the legend on hover and in the table).
  function gapsText(years, points, reason) {
    const runs = [];
    years.forEach((year, i) => {
      const point = points[i];
      if (point.value !== null) return;
      const status = statusText({status: point.status}, reason), last = runs[runs.length - 1];
      if (last && last.to === year - 1 && last.status === status) last.to = year;
      else runs.push({from: year, to: year, status, notes: new Set()});
      if (point.note) runs[runs.length - 1].notes.add(point.note.replace(/\.$/, ""));
    });
    if (!runs.length) return "";
    return "Gaps (no figure): " + runs.map(r => `${r.from === r.to ? r.from : `${r.from}–${r.to}`} ${r.status}` +
      (r.notes.size === 1 ? ` (${[...r.notes][0]})` : r.notes.size ? " (each year's reason on hover and in the table)"
                                                       : "")).join("; ") + ".";
  }

  function unitsControls(section, units, baseYear, years, onChange) {
    for (const radio of section.querySelectorAll("fieldset.units input[type=radio]")) {
      radio.checked = radio.value === units;
      radio.onchange = () => onChange(radio.value, $("select[name=base_year]", section).value);
    }
    const select = $("select[name=base_year]", section);
    const choices = years.map(String).includes(String(baseYear)) ? years : [...years, Number(baseYear)].sort();
    select.replaceChildren(...choices.map(year => el("option", {value: year, selected: String(year) === String(baseYear)},
      years.includes(year) ? String(year) : `${year} (no figure)`)));
    select.onchange = () => onChange("index", select.value);
    select.closest("label").hidden = units !== "index";
  }

  // ---- the views ----------------------------------------------------------------------------------------------

  let metroShown = null;  // the series each view drew last: where an index's base year is taken from
  let compareShown = null;

  // The base year of an index: the first year every series shown has a figure for, else the data's first year.
  async function baseYearFor(shown) {
    const year = shown?.[0].data.map(p => p.year).find((y, i) => shown.every(s => s.data[i]?.level !== null));
    return year ?? (await dataYears())[0];
  }

  views.metro = async (section, code, params) => {
    const figure = $("figure", section);
    $(".hint", section).hidden = Boolean(code);
    if (!code) { figure.hidden = true; return; }
    const units = UNITS[params.get("units")] ? params.get("units") : "level";
    const shown = metroShown?.geography.code === code ? [metroShown] : null;
    const baseYear = units === "index" ? params.get("base_year") || await baseYearFor(shown) : null;
    const url = `/v1/metros/${encodeURIComponent(code)}/exports${query({units, base_year: baseYear})}`;
    const body = await api(url);
    metroShown = body;
    const years = body.data.map(p => p.year);
    const reason = body.units_basis.map(b => b.reason).find(Boolean);
    const notes = body.data.map(p => statusText(p, reason));
    unitsControls(section, units, baseYear ?? years.find((y, i) => body.data[i].level !== null) ?? years[0],
                  years.filter((y, i) => body.data[i].level !== null),
                  (next, base) => go("metro", code, {units: next, base_year: next === "index" ? base : null}));
    figure.hidden = false;
    const empty = !body.data.length;
    for (const part of figure.querySelectorAll(":scope > :not(figcaption, .empty, .sources)")) part.hidden = empty;
    $(".empty", figure).hidden = !empty;
    if (empty) {  // a retired code, say: the API says where the figures are
      $("figcaption", figure).replaceChildren(el("strong", {}, body.geography.name));
      $(".empty", figure).replaceChildren(body.hint || "This dataset has no figures for this metro.",
        ...(body.successor ? [" ", el("a", {href: `#metro/${body.successor.code}`},
                                      `See ${body.successor.name} (${body.successor.code}).`)] : []));
      $(".sources", figure).replaceChildren(...sourcesLine(body.sources));
      return;
    }
    const title = `${body.geography.name}: ${body.indicators.map(i => i.title).join(", ")}`;
    $("figcaption", figure).replaceChildren(el("strong", {}, title), " ",
      el("span", {class: "units-name"}, describeUnits(body, baseYear)));
    const chart = $(".chart", figure);
    chart.setAttribute("aria-label", `Line chart: ${title}, ${years[0]}–${years[years.length - 1]}. ` +
                                     "The same figures are in the table below.");
    lineChart(chart, {years, units, gaps: true, series: [{label: body.geography.name, color: PALETTE[0],
      values: body.data.map(p => p.value), notes}]});
    $(".gaps", figure).textContent = gapsText(years, body.data, reason);
    $(".sources", figure).replaceChildren(...sourcesLine(body.sources));
    $(".actions", figure).replaceChildren(...csvLink(url, `exports-${code}-${units}.csv`), " · ",
      el("a", {href: `#compare${query({code})}`}, "Compare with other metros"));
    $(".figures table", figure).replaceChildren(...table(
      ["Year", UNITS[units].name, ...(units === "level" ? [] : ["Exports (US dollars)"]), "Status"],
      body.data.map((p, i) => [String(p.year), p.value === null ? "–" : UNITS[units].full(p.value),
        ...(units === "level" ? [] : [p.level === null ? "–" : dollars.format(p.level)]),
        p.value === null ? notes[i] : p.status]),
      title));
  };

  function describeUnits(body, baseYear) {
    const basis = body.units_basis[0] || {};
    const why = basis.reason ? ` Not computed: ${basis.reason}.` : "";
    if (body.units === "index") return `Index, ${baseYear} = 100.${why}`;
    if (body.units === "percent_change") return `Percent change on the year before.${why}`;
    if (body.units === "share") return `Percent of ${basis.denominator || "the national total"}.${why}`;
    const indicator = body.indicators[0];
    return `US dollars${indicator?.dollar_basis ? `, ${indicator.dollar_basis}` : ""}.`;
  }

  views.compare = async (section, arg, params) => {
    const codes = (params.get("code") || "").split(",").filter(Boolean).slice(0, MAX_COMPARE);
    const units = UNITS[params.get("units")] ? params.get("units") : "level";
    const figure = $("figure", section);
    const input = $("input[type=search]", section);
    input.disabled = codes.length >= MAX_COMPARE;
    input.placeholder = codes.length >= MAX_COMPARE ? "Five metros: remove one to add another" : "Type a name";
    $(".hint", section).hidden = codes.length > 0;
    const chips = $(".chips", section);
    if (!codes.length) { chips.replaceChildren(); figure.hidden = true; return; }
    const same = compareShown?.map(s => s.geography.code).join() === codes.join();
    const baseYear = units === "index" ? params.get("base_year") || await baseYearFor(same ? compareShown : null) : null;
    const url = `/v1/metros/exports${query({code: codes.join(","), units, base_year: baseYear})}`;
    const body = await api(url);
    // one row per year any series has; a series without that year has no figure there
    const years = [...new Set(body.series.flatMap(s => s.data.map(p => p.year)))].sort((a, b) => a - b);
    const all = body.series.map(s => {
      const points = new Map(s.data.map(p => [p.year, p]));
      return {...s, data: years.map(year => points.get(year) || {year, value: null, level: null, status: "not_available"})};
    });
    compareShown = all;
    unitsControls(section, units, baseYear ?? years[0], years, (next, base) => go("compare", null,
      {code: codes.join(","), units: next, base_year: next === "index" ? base : null}));
    chips.replaceChildren(...all.map((s, i) => el("li", {class: "chip"},
      el("span", {class: "swatch", "data-color": i}), el("a", {href: `#metro/${s.geography.code}`}, s.geography.name),
      el("button", {type: "button", "aria-label": `Remove ${s.geography.name}`,
                    onclick: () => go("compare", null, {code: codes.filter(c => c !== s.geography.code).join(","),
                                                        units: params.get("units"),
                                                        base_year: params.get("base_year")})}, "×"))));
    for (const swatch of chips.querySelectorAll(".swatch")) swatch.style.background = PALETTE[swatch.dataset.color];
    figure.hidden = false;
    const title = `Exports of ${all.map(s => s.geography.name).join(", ")}`;
    $("figcaption", figure).replaceChildren(el("strong", {}, title), " ",
      el("span", {class: "units-name"}, describeUnits(all[0], baseYear)));
    const chart = $(".chart", figure);
    chart.setAttribute("aria-label", `Line chart: ${title}. The same figures are in the table below.`);
    const notes = all.map(s => s.data.map(p => statusText(p, s.units_basis.map(b => b.reason).find(Boolean))));
    lineChart(chart, {years, units, gaps: all.length === 1, series: all.map((s, i) => ({
      label: s.geography.name, color: PALETTE[i], values: s.data.map(p => p.value), notes: notes[i]}))});
    $(".gaps", figure).textContent = all.map(s => {
      const text = gapsText(years, s.data, s.units_basis.map(b => b.reason).find(Boolean));
      return text && `${s.geography.name}: ${text}`;
    }).filter(Boolean).join(" ");
    $(".sources", figure).replaceChildren(...sourcesLine(all[0].sources));
    $(".actions", figure).replaceChildren(...csvLink(url, `exports-${codes.join("-")}-${units}.csv`));
    $(".figures table", figure).replaceChildren(...table(["Year", ...all.map(s => s.geography.name)],
      years.map((year, i) => [String(year), ...all.map((s, j) => s.data[i].value === null ? `– (${notes[j][i]})`
                                                                    : UNITS[units].full(s.data[i].value))]),
      `${title}: ${UNITS[units].name}`));
  };
  function addToCompare(code) {
    const {params} = current();
    const codes = (params.get("code") || "").split(",").filter(Boolean);
    if (!codes.includes(code) && codes.length < MAX_COMPARE) codes.push(code);
    go("compare", null, {code: codes.join(","), units: params.get("units"), base_year: params.get("base_year")});
  }

  const RANKED = {
    value: {column: "Exports", phrase: "exports", format: UNITS.level.full},
    share: {column: "Share of the national total", phrase: "share of the national total", format: UNITS.share.full},
    growth: {column: "Growth", phrase: "growth", format: UNITS.percent_change.full},
    cagr: {column: "CAGR (% a year)", phrase: "compound annual growth", format: v => signed(v, twoDecimals) + " %"},
  };

  function yearOptions(select, years, chosen) {
    select.replaceChildren(...years.map(y => el("option", {value: y, selected: y === chosen}, String(y))));
  }

  views.ranking = async (section, arg, params) => {
    const years = await dataYears();
    const by = RANKED[params.get("by")] ? params.get("by") : "value";
    const span = by === "growth" || by === "cagr";
    const last = years[years.length - 1];
    const year = Number(params.get("year")) || last;
    // growth over the latest year; compound growth over all the years
    const to = Number(params.get("to")) || last;
    const from = Number(params.get("from")) || (by === "growth" ? years.filter(y => y < to).pop() : years[0]);
    const controls = $(".controls", section);
    $("select[name=by]", controls).value = by;
    yearOptions($("select[name=year]", controls), [...years].reverse(), year);
    yearOptions($("select[name=from]", controls), years.filter(y => y < last), from);
    yearOptions($("select[name=to]", controls), years.filter(y => y > years[0]), to);
    for (const label of controls.querySelectorAll(".for-year")) label.hidden = span;
    for (const label of controls.querySelectorAll(".for-span")) label.hidden = !span;
    controls.onchange = event => {
      const next = $("select[name=by]", controls).value;
      if (event.target.name === "by") {  // the year stays between value and share; else that measure's defaults
        go("ranking", null, {by: next, year: span || next === "growth" || next === "cagr" ? null : year});
      }
      else if (span) go("ranking", null, {by, from: $("select[name=from]", controls).value,
                                          to: $("select[name=to]", controls).value});
      else go("ranking", null, {by, year: $("select[name=year]", controls).value});
    };
    const url = `/v1/rankings/metros${query({by, ...(span ? {from, to} : {year}), page_size: 1000})}`;
    const body = await api(url);
    const result = $(".result", section);
    result.hidden = false;
    const when = span ? `${body.start_year}–${body.end_year}` : String(body.year);
    const reasons = Object.entries(body.excluded_reasons || {}).map(([code, n]) => `${n} ${STATUS[code] || code}`);
    $(".summary", result).textContent = `${body.ranked} metros ranked by ${RANKED[by].phrase}, ${when}` +
      (body.excluded_count ? `; ${body.excluded_count} excluded, no figure to rank (${reasons.join(", ")}).` : ".");
    rankingTable($("table", result), body, by, span);
    const excluded = $(".excluded", result);
    excluded.hidden = !body.excluded_count;
    $("summary", excluded).textContent = `${body.excluded_count} excluded` +
      (body.excluded.length < body.excluded_count ? ` (the first ${body.excluded.length} listed)` : "");
    $("ul", excluded).replaceChildren(...body.excluded.map(e => el("li", {}, `${e.name} (${e.code}): ${e.reason}`)));
    $(".caveats", result).replaceChildren(...body.caveats.map(c => el("li", {}, c)));
    $(".method", result).textContent = [`Formula: ${body.formula}.`,
      body.denominator && `Denominator: ${body.denominator}.`, `Ties: ${body.ties}`].filter(Boolean).join(" ");
    $(".sources", result).replaceChildren(...sourcesLine(body.sources));
    $(".actions", result).replaceChildren(...csvLink(url, `ranking-${by}-${when}.csv`));
  };

  // A sortable table (click a column's header) with a bar in each row for the ranked value.
  function rankingTable(node, body, by, span) {
    const columns = [
      {name: "Rank", key: r => r.rank, text: r => String(r.rank), numeric: true},
      {name: "Metro", key: r => r.name, text: r => el("a", {href: `#metro/${r.code}`}, r.name)},
      {name: RANKED[by].column, key: r => r.value, text: r => RANKED[by].format(r.value), numeric: true, bar: true},
      ...(span ? [{name: `Exports ${body.start_year}`, key: r => r.start_value, numeric: true,
                   text: r => UNITS.level.full(r.start_value)}] : []),
      ...(span || by === "share" ? [{name: `Exports ${span ? body.end_year : body.year}`, key: r => r.end_value,
                                     numeric: true, text: r => UNITS.level.full(r.end_value)}] : []),
    ];
    const widest = Math.max(...body.data.map(r => Math.abs(r.value)), Number.MIN_VALUE);
    let order = {column: 0, ascending: true};

    function draw() {
      const column = columns[order.column];
      const rows = [...body.data].sort((a, b) => {
        const x = column.key(a), y = column.key(b);
        const compared = typeof x === "string" ? x.localeCompare(y) : x - y;
        return (order.ascending ? compared : -compared) || a.rank - b.rank;
      });
      const head = el("tr", {}, columns.map((c, i) => el("th", {
        scope: "col", class: c.numeric ? "numeric" : null,
        "aria-sort": i === order.column ? (order.ascending ? "ascending" : "descending") : "none"},
        el("button", {type: "button", onclick: () => {
          order = {column: i, ascending: i === order.column ? !order.ascending : !c.numeric || i === 0};
          draw();
          node.querySelectorAll("thead button")[i].focus();
        }}, c.name))));
      const bars = [];
      const tbody = el("tbody", {}, rows.map(r => el("tr", {}, columns.map(c => {
        if (!c.bar) return el(c.name === "Metro" ? "th" : "td", {class: c.numeric ? "numeric" : null,
                                                                 scope: c.name === "Metro" ? "row" : null}, c.text(r));
        const bar = el("span", {class: r.value < 0 ? "bar negative" : "bar", "aria-hidden": "true"});
        bars.push([bar, Math.abs(r.value) / widest]);
        return el("td", {class: "numeric with-bar"}, el("span", {class: "figure"}, c.text(r)), bar);
      }))));
      for (const [bar, fraction] of bars) bar.style.width = `${(fraction * 100).toFixed(2)}%`;
      node.replaceChildren(el("caption", {}, `Metros by ${RANKED[by].phrase}; select a column's header to sort ` +
                                            "by it."), el("thead", {}, head), tbody);
    }
    draw();
  }

  let topology = null;

  function outlines() {
    topology ||= fetch("/explore/static/vendor/us-atlas/states-10m.json").then(r => r.json())
      .catch(error => { topology = null; throw error; });
    return topology;
  }

  views.map = async (section, arg, params) => {
    const years = await dataYears();
    const year = Number(params.get("year")) || years[years.length - 1];
    const select = $("select[name=year]", section);
    yearOptions(select, [...years].reverse(), year);
    select.onchange = () => go("map", null, {year: select.value});
    const url = `/v1/metros${query({year, sort: "-exports", page_size: 500})}`;
    const [body, us] = await Promise.all([api(url), outlines()]);
    const projection = d3.geoAlbersUsaTerritories().scale(1300).translate([MAP_SIZE[0] / 2, MAP_SIZE[1] / 2]);
    const path = d3.geoPath(projection);
    const rows = body.data.filter(m => m.exports && m.exports.value !== null);
    const withFigure = rows.filter(m => m.type !== "unallocated");
    const unallocated = rows.filter(m => m.type === "unallocated");  // ITA's rows for no one place
    const drawn = [], undrawn = [];
    for (const metro of withFigure) {
      const point = metro.internal_point && projection([metro.internal_point.lon, metro.internal_point.lat]);
      (point ? drawn : undrawn).push({metro, point});
    }
    const largest = Math.max(...drawn.map(d => d.metro.exports.value), 1);
    const radius = value => MAX_RADIUS * Math.sqrt(value / largest);  // area proportional to exports
    const states = topojson.feature(us, us.objects.states).features;
    const map = svg("svg", {viewBox: `0 0 ${MAP_SIZE.join(" ")}`, class: "us-map", "aria-hidden": "true"},
      svg("g", {class: "states"}, ...states.map(s => svg("path", {d: path(s)}, svg("title", {}, s.properties.name)))),
      svg("g", {class: "metros"}, ...drawn.map(({metro, point}) => {
        const circle = svg("circle", {cx: point[0].toFixed(1), cy: point[1].toFixed(1),
                                      r: radius(metro.exports.value).toFixed(2), "data-code": metro.code},
          svg("title", {}, `${metro.name}: ${dollars.format(metro.exports.value)} (${year})`));
        circle.addEventListener("click", () => go("metro", metro.code));
        return circle;
      })));
    const figure = $("figure", section);
    figure.hidden = false;
    const total = withFigure.reduce((sum, m) => sum + m.exports.value, 0);
    const listed = list => list.map(m => `${m.name} ${compactDollars.format(m.exports.value)}`).join("; ");
    $("figcaption", figure).replaceChildren(el("strong", {}, `Exports of goods by metro, ${year}`),
      ` ${drawn.length} metros drawn at their internal points, each circle's area proportional to its exports.`);
    const host = $(".map", figure);
    host.setAttribute("aria-label", `Map of the United States with ${drawn.length} circles, one per metro with a ` +
                                    `figure for ${year}. The same figures are in the table below.`);
    host.replaceChildren(map);
    $(".legend", figure).replaceChildren(...sizeLegend(largest, radius));
    scaleLegend(figure);
    resizing.observe(host);
    const cut = body.meta.pages > 1 && body.data[body.data.length - 1].exports.value !== null;  // sorted by exports
    $(".undrawn", figure).textContent = [
      cut && `Only the ${body.data.length} largest are drawn; the rest are on the next pages of ${url}.`,
      undrawn.length && `Not drawn, no internal point in the delineation files: ${listed(undrawn.map(d => d.metro))}.`,
      unallocated.length && `Not drawn, exports ITA allocates to no metro: ${listed(unallocated)}.`,
    ].filter(Boolean).join(" ");
    $(".sources", figure).replaceChildren(`Figures: ITA Metropolitan Export Series (dataset `,
      el("a", {href: "/v1/datasets/ita-metro-exports"}, "ita-metro-exports"),
      `), ${withFigure.length} metros with a figure for ${year}, together ${compactDollars.format(total)}. Points: ` +
      "each CBSA's internal point (INTPTLAT/INTPTLON) from the OMB/Census delineation files. Outlines: us-atlas " +
      "3.0.1 (Census cartographic boundaries, 2017).");
    $(".actions", figure).replaceChildren(...csvLink(url, `metros-${year}.csv`));
    $(".figures table", figure).replaceChildren(...table(["Metro", `Exports ${year}`, "Latitude", "Longitude"],
      withFigure.map(m => [el("a", {href: `#metro/${m.code}`}, m.name), dollars.format(m.exports.value), m.internal_point ? String(m.internal_point.lat) : "–",
                           m.internal_point ? String(m.internal_point.lon) : "–"]),
      `Exports of goods by metro, ${year}, largest first`));
  };

  // Circles for three round values, drawn at the map's own scale (scaleLegend sizes them as the map is shown).
  function sizeLegend(largest, radius) {
    const magnitude = 10 ** Math.floor(Math.log10(largest));
    const values = [...new Set([magnitude * Math.floor(largest / magnitude), magnitude, magnitude / 10,
                                magnitude / 100])].filter(v => v >= 1).slice(0, 3);
    return ["Circle area: ", ...values.map(value => {
      const size = 2 * radius(value) + 2;
      return el("span", {class: "legend-item"},
        svg("svg", {viewBox: `0 0 ${size} ${size}`, class: "legend-circle", "aria-hidden": "true", "data-size": size},
            svg("circle", {cx: size / 2, cy: size / 2, r: radius(value).toFixed(2)})),
        compactDollars.format(value));
    })];
  }

  function scaleLegend(figure) {
    const scale = $(".map", figure).clientWidth / MAP_SIZE[0];
    for (const node of figure.querySelectorAll(".legend-circle")) {
      node.style.width = node.style.height = `${(node.dataset.size * scale).toFixed(1)}px`;
    }
  }

  let plans = null;

  views.plan = async (section, slug) => {
    plans ||= api("/v1/export-plans?page_size=100", "plans").then(body => body.data)
      .catch(error => { plans = null; throw error; });
    const select = $("select[name=plan]", section);
    const list = await plans;
    if (select.options.length === 1) {
      select.append(...list.map(p => el("option", {value: p.slug},
        `${p.metro_name} (${p.cohort})${p.title ? ` — ${p.title}` : ""}`)));
      select.onchange = () => go("plan", select.value);
    }
    select.value = slug || "";
    const figure = $("figure", section);
    $(".hint", section).hidden = Boolean(slug);
    if (!slug) { figure.hidden = true; return; }
    const body = await api(`/v1/export-plans/${encodeURIComponent(slug)}/progress`);
    figure.hidden = false;
    const years = body.years.map(y => y.year);
    const goalYear = body.target?.year ?? null;
    const title = body.plan.title || `${body.plan.metro_name} export plan`;
    $("figcaption", figure).replaceChildren(el("strong", {}, title), " ",
      goalYear ? el("span", {class: "goal-year"}, `Goal year: ${goalYear}.`) : "The plan states no goal year.");
    const chart = $(".chart", figure);
    chart.setAttribute("aria-label", `Line chart: ${body.measured_on} against the path to the plan's goal` +
                                     `${goalYear ? `, goal year ${goalYear}` : ""}. The same figures are in the table below.`);
    const notes = body.years.map(y => statusText(y));
    // the path compounds on past the goal year; drawn (and tabled) up to it, where it means something
    const path = body.years.map(y => goalYear === null || y.year <= goalYear ? y.on_track_value : null);
    const onTrack = path.some(v => v !== null);
    const series = [{label: "Exports (ITA, goods)", color: PALETTE[0], values: body.years.map(y => y.value), notes}];
    if (onTrack) {
      series.push({label: "Path to the goal", color: GOAL, dash: [8, 5], points: false, values: path,
                   notes: body.years.map(y => y.year > goalYear ? "after the goal year" : "no path")});
    }
    lineChart(chart, {years, units: "level", gaps: true, series,
                      goal: goalYear ? {year: goalYear, value: body.series_goal_value} : null});
    const money = v => v === null || v === undefined ? "unknown" : dollars.format(v);
    const facts = [
      ["Metro(s)", body.plan.cbsa_names.map((name, i) => `${name} (${body.plan.cbsas[i]})`).join("; ")],
      ["Baseline in the plan", body.baseline ? `${money(body.baseline.value)}${body.baseline.year
        ? ` in ${body.baseline.year}` : ""} (${body.baseline.basis})` : "not stated"],
      ["Target in the plan", body.target ? `${money(body.target.value)}${body.target.year ? ` by ${body.target.year}`
        : ""}${body.target.note ? ` (${body.target.note})` : ""}` : "not stated"],
      ["Measured on", body.measured_on],
      ["Goal on this series", body.series_goal_value === null ? "none (no target)"
        : `${money(body.series_goal_value)} (${body.target_multiple}× the ${body.start_year} figure)`],
      ["Growth needed", body.required_cagr === null ? body.required_cagr_reason
        : `${twoDecimals.format(body.required_cagr)} % a year`],
      ["Growth achieved", body.achieved.cagr === null ? body.achieved.reasons.join("; ")
        : `${twoDecimals.format(body.achieved.cagr)} % a year, ${body.achieved.start_year}–${body.achieved.end_year}`],
      ["Goal reached", body.goal_reached === null ? "not measurable" : body.goal_reached
        ? `yes, in ${body.goal_reached_in}` : "not yet"],
    ];
    $(".facts", figure).replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    $(".notes", figure).textContent = [body.basis_note, ...body.notes].join(" ");
    $(".sources", figure).replaceChildren(...sourcesLine([body.series]));
    const joint = body.plan.cbsas.length > 1;
    $(".figures table", figure).replaceChildren(...table(
      ["Year", "Exports", ...(onTrack ? ["Path to the goal"] : []), "Status",
       ...(joint ? body.plan.cbsa_names : [])],
      body.years.map((y, i) => [String(y.year), y.value === null ? "–" : dollars.format(y.value),
        ...(onTrack ? [path[i] === null ? "–" : dollars.format(path[i])] : []),
        y.value === null ? notes[i] : y.status,
        ...(joint ? y.parts.map(p => p.value === null ? `– (${p.status})` : dollars.format(p.value)) : [])]),
      `${title}: exports against the path to the goal`));
  };

  // ---- start --------------------------------------------------------------------------------------------------

  for (const part of document.querySelectorAll("[data-template]")) {
    part.append($("#" + part.dataset.template).content.cloneNode(true));
    const view = part.closest(".view").id;
    for (const radio of part.querySelectorAll("input[type=radio]")) radio.name = `${view}-${radio.name}`;
  }
  searchBox($("#metro-search"), code => go("metro", code));
  searchBox($("#compare-search"), addToCompare);
  window.addEventListener("hashchange", route);
  route();
})();
