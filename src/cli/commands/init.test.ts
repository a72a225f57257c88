import assert from 'node:assert/strict';
import { test } from 'node:test';
import { autoflowDependency } from './init.js';

test('a repository created by an AutoFlow installed from a registry depends on that version', () => {
  assert.deepEqual(autoflowDependency('/srv/tools/node_modules/autoflow/', '/home/ada/flows', '1.4.2'), { spec: '^1.4.2', local: false });
});

test('a repository created from a checkout of AutoFlow depends on the checkout by its relative path', () => {
  assert.deepEqual(autoflowDependency('/home/ada/src/autoflow/', '/home/ada/flows', '0.1.0'), {
    spec: 'file:../src/autoflow',
    local: true,
  });
  assert.deepEqual(autoflowDependency('/home/ada/autoflow/', '/home/ada/autoflow', '0.1.0'), { spec: 'file:.', local: true });
});
