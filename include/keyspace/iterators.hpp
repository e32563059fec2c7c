/** @file keyspace/iterators.hpp
 *  The iterators over a PrefixTracker and their builder (PrefixTracker::iter()): sequential, random (a true
 *  permutation, or an endless distribution or mixed-ratio stream), write/claim (private or shared progress), erase,
 *  and partitions. One header per piece:
 *  - <keyspace/iterators/builder.hpp>          IteratorBuilder / ConstIteratorBuilder, PrefixTracker::iter()
 *  - <keyspace/iterators/sequential_iter.hpp>  SequentialIter
 *  - <keyspace/iterators/random_iter.hpp>      RandomIter
 *  - <keyspace/iterators/write_iter.hpp>       WriteIter
 *  - <keyspace/iterators/erase_iter.hpp>       EraseIter
 *  and their machinery in detail/: iteration_space.hpp (spaces, filters), scanner.hpp (the word scanner),
 *  draw_stream.hpp (distribution draws, sample() thinning), input_range.hpp (the range-for support).
 *
 *  Concurrency. Iterators read the bitmap a word at a time: a key's state is the state of its word when the
 *  iterator loaded it. Claims (write) and removals (erase) are atomic per key and never handed out twice. */
#pragma once

#include <keyspace/iterators/builder.hpp> // IWYU pragma: export
#include <keyspace/iterators/erase_iter.hpp> // IWYU pragma: export
#include <keyspace/iterators/random_iter.hpp> // IWYU pragma: export
#include <keyspace/iterators/sequential_iter.hpp> // IWYU pragma: export
#include <keyspace/iterators/write_iter.hpp> // IWYU pragma: export
