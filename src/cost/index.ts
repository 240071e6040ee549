// The cost model's public surface: price book, model, chart.
export * from './chart';
export * from './model';
export * from './prices';
