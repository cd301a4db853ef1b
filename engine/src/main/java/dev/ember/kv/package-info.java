/**
 * Paged KV-cache bookkeeping: {@link dev.ember.kv.BlockManager} hands out fixed-size block ids with reference
 * counts and keeps a prefix cache of full blocks; {@link dev.ember.kv.BlockTable} is one sequence's list of blocks.
 * No tensors: the backend owns the memory the ids index.
 */
package dev.ember.kv;
