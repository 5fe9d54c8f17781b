// The Guided tour (step by step through the ordering controls, each highlighted in turn with a
// short text; Next / Back / Close and Escape) and the always-visible credit balance in the header.
import type { Ctx, Section } from "../main";
import * as store from "../state";
import { eur, h, on, refreshBalance } from "./common";

interface Step {
  title: string;
  text: string;
  /** The section to open first, so the control is on screen. */
  section?: Section;
  /** The control to highlight; the first candidate that is visible wins. */
  find: () => Element | null | undefined;
}

function visible(e: Element | null | undefined): e is HTMLElement {
  if (!(e instanceof HTMLElement)) return false;
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && !e.closest("[hidden]");
}

/** A control by its accessible name (visible text or aria-label), the way people and tests find it. */
function named(name: string, scope: ParentNode = document): HTMLElement | null {
  const all = scope.querySelectorAll<HTMLElement>("button, [role=tab], [role=radio], a, [role=radiogroup]");
  for (const e of all) {
    const n = (e.getAttribute("aria-label") ?? e.textContent ?? "").trim();
    if (n === name && visible(e)) return e;
  }
  return null;
}

function first(...candidates: (() => Element | null | undefined)[]): Element | null {
  for (const c of candidates) {
    const e = c();
    if (visible(e)) return e;
  }
  return null;
}

const STEPS: Step[] = [
  {
    title: "Order Data: choose a mode",
    text: "Polygon orders exact boundaries; Tiles / Minitiles selects grid cells at a lower cost per km². \"Which mode fits?\" beside the switch explains more.",
    section: "order",
    find: () => first(() => document.querySelector("[role=radiogroup][aria-label='Order Data']"), () => named("Order Data")),
  },
  {
    title: "Your area",
    text: "Polygon: Draw on the map, Import a file (or drop it on the map) or Paste WKT / GeoJSON. Tiles / Minitiles: click cells on the map, Split a tile into minitiles, or Optimise a drawn polygon into the cheapest mix.",
    section: "order",
    find: () => first(
      () => named("Draw")?.closest(".toolbar"),
      () => named("Split")?.closest(".toolbar"),
      () => document.querySelector(".mode-body:not([hidden])"),
    ),
  },
  {
    title: "Configure",
    text: "Pick the model and its constellations, the window (From / To; an empty To is a recurring order), the image frequency and the extras.",
    section: "configure",
    find: () => first(() => document.querySelector("form.configure"), () => named("Configure")),
  },
  {
    title: "Add to cart",
    text: "Adds the area with this configuration to your cart; the service checks every field and shows its message next to the one it refuses.",
    section: "configure",
    find: () => named("Add to cart"),
  },
  {
    title: "Cart",
    text: "The live estimate: one line per part or cell group, month and tier bracket, the image dates, the totals and how long the quote holds.",
    section: "cart",
    find: () => first(() => named("Cart")),
  },
  {
    title: "Checkout",
    text: "Pays the amount due from your credit. If the price changed or credit is missing, you see why and what to do next.",
    section: "cart",
    find: () => first(() => named("Checkout"), () => named("Cart")),
  },
  {
    title: "Orders",
    text: "Every order with its status and detail: image dates, amount charged, attribution notices. Cancel in Review, or stop a recurring order's renewal.",
    section: "orders",
    find: () => first(() => named("Orders")),
  },
];

export function mountTour(button: HTMLButtonElement, ctx: Ctx): void {
  button.setAttribute("aria-haspopup", "dialog");
  const ring = h("div", { class: "tour-ring", "aria-hidden": "true" });
  const title = h("h2", { id: "tour-title" });
  const text = h("p", { id: "tour-text" });
  const count = h("p", { class: "muted tour-count" });
  const back = h("button", { type: "button", class: "btn" }, "Back");
  const next = h("button", { type: "button", class: "btn btn-primary" }, "Next");
  const close = h("button", { type: "button", class: "btn", "aria-label": "Close the tour" }, "Close");
  // Not modal: the highlighted control stays visible and reachable beside it.
  const box = h("div", { class: "tour", role: "dialog", "aria-labelledby": "tour-title", "aria-describedby": "tour-text" },
    count, title, text, h("div", { class: "toolbar" }, back, next, close));
  box.hidden = true;
  ring.hidden = true;
  document.body.append(ring, box);

  let index = 0;
  let target: HTMLElement | null = null;

  const place = () => {
    if (box.hidden) return;
    if (!target || !visible(target)) {
      ring.hidden = true;
      box.style.left = "50%";
      box.style.top = "30%";
      box.style.transform = "translateX(-50%)";
      return;
    }
    const r = target.getBoundingClientRect();
    ring.hidden = false;
    Object.assign(ring.style, { left: `${r.left - 4}px`, top: `${r.top - 4}px`, width: `${r.width + 8}px`, height: `${r.height + 8}px` });
    box.style.transform = "";
    const bw = box.offsetWidth, bh = box.offsetHeight;
    // beside the control when there is room (the panel is on the left, the map on the right), else below
    // a control in the left panel: the text sits over the map, beside the panel, not over the form
    const panel = target.closest(".panel");
    let left = (panel ? panel.getBoundingClientRect().right : r.right) + 16, top = r.top;
    if (left + bw > window.innerWidth - 8) { left = Math.max(8, r.left); top = r.bottom + 12; }
    if (top + bh > window.innerHeight - 8) top = Math.max(8, r.top - bh - 12);
    box.style.left = `${Math.min(left, window.innerWidth - bw - 8)}px`;
    box.style.top = `${Math.max(8, top)}px`;
  };

  const show = (i: number) => {
    index = Math.max(0, Math.min(STEPS.length - 1, i));
    const step = STEPS[index]!;
    if (step.section) ctx.show(step.section);
    target?.classList.remove("tour-target");
    target = (step.find() as HTMLElement | null) ?? null;
    target?.classList.add("tour-target");
    target?.scrollIntoView({ block: "nearest" });
    count.textContent = `Step ${index + 1} of ${STEPS.length}`;
    title.textContent = step.title;
    text.textContent = step.text;
    back.disabled = index === 0;
    next.textContent = index === STEPS.length - 1 ? "Finish" : "Next";
    place();
    next.focus();
  };

  const open = () => {
    box.hidden = false;
    button.setAttribute("aria-expanded", "true");
    show(0);
  };
  const end = () => {
    box.hidden = true;
    ring.hidden = true;
    target?.classList.remove("tour-target");
    target = null;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  };

  button.setAttribute("aria-expanded", "false");
  button.addEventListener("click", () => (box.hidden ? open() : end()));
  back.addEventListener("click", () => show(index - 1));
  next.addEventListener("click", () => (index === STEPS.length - 1 ? end() : show(index + 1)));
  close.addEventListener("click", end);
  document.addEventListener("keydown", (ev) => {
    if (box.hidden) return;
    if (ev.key === "Escape") {
      ev.preventDefault();
      end();
    } else if (box.contains(document.activeElement)) {
      if (ev.key === "ArrowRight") show(index + 1);
      else if (ev.key === "ArrowLeft") show(index - 1);
    }
  });
  window.addEventListener("resize", place);
  document.addEventListener("scroll", place, true);
}

export function mountBalance(output: HTMLElement, _ctx: Ctx): void {
  const render = () => {
    const b = store.get().balance;
    output.textContent = b ? `Credit ${eur(b.amount)}` : "Credit …";
  };
  store.subscribe((_s, changed) => {
    if (changed.has("balance")) render();
  });
  on("balance", () => void refreshBalance());
  // other tabs, renewals and refunds change it too: read it again when the page is looked at
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") void refreshBalance();
  });
  setInterval(() => void refreshBalance(), 60_000);
  render();
  void refreshBalance();
}
