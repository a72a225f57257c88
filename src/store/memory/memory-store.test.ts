import { describeStoreConformance } from '../conformance/store-conformance.js';
import { createMemoryStore } from './memory-store.js';

describeStoreConformance('memory', () => Promise.resolve(createMemoryStore()));
