export class Vector {
  #x;
  #y;
  constructor(x, y) {
    this.#x = x;
    this.#y = y;
  }
  get x() {
    return this.#x;
  }
  get y() {
    return this.#y;
  }
  length() {
    return Math.hypot(this.#x, this.#y);
  }
  cross(other) {
    return this.#x * other.y - this.#y * other.x;
  }
  toString() {
    return `(${this.#x}, ${this.#y})`;
  }
}

/** Shoelace formula over a closed polygon. */
export function area(points) {
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    sum += points[i].cross(points[(i + 1) % points.length]);
  }
  return Math.abs(sum) / 2;
}

export function unusedHelper() {
  return "tree-shaking drops this";
}
