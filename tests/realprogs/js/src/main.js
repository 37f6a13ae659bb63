// Entry point of the esbuild case: a few modules, a JSON import, classes,
// template strings and dead code that minification must drop.
import { Vector, area } from "./lib/geometry.js";
import { slugify, wordFrequencies } from "./lib/text.js";
import config from "./config.json";
import * as stats from "./lib/stats.js";

const DEBUG = false;

export function main(input) {
  const points = input.points.map(([x, y]) => new Vector(x, y));
  const report = {
    name: slugify(config.title),
    version: config.version,
    area: area(points),
    longest: points.reduce((a, b) => (b.length() > a.length() ? b : a)).toString(),
    mean: stats.mean(input.samples),
    stddev: stats.stddev(input.samples).toFixed(4),
    words: [...wordFrequencies(input.text)].slice(0, 3),
  };
  if (DEBUG) {
    console.log("debugging output that the minifier removes", report);
  }
  return report;
}

console.log(
  JSON.stringify(
    main({
      points: [[0, 0], [4, 0], [4, 3], [0, 3]],
      samples: [2, 4, 4, 4, 5, 5, 7, 9],
      text: "the cat and the hat and the bat",
    }),
    null,
    2,
  ),
);
