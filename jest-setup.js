// Jest setup provided by Grafana scaffolding
import './.config/jest-setup';

// jsdom has no canvas; Grafana's Combobox measures option text with one.
HTMLCanvasElement.prototype.getContext = () => ({
  measureText: (text) => ({ width: String(text).length * 7 }),
});

// jsdom has no IntersectionObserver; Grafana's scroll containers (inside Combobox menus) observe with one.
class NoopIntersectionObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}
global.IntersectionObserver = NoopIntersectionObserver;

// jsdom lays nothing out, so virtualised lists (Combobox options) would render no rows: give elements a size.
Element.prototype.getBoundingClientRect = () => ({ width: 120, height: 120, top: 0, left: 0, bottom: 0, right: 0 });
Object.defineProperties(HTMLElement.prototype, {
  clientHeight: { configurable: true, get: () => 400 },
  clientWidth: { configurable: true, get: () => 400 },
});
