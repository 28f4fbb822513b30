// Stand-in for ankerl::unordered_dense (github.com/martinus/unordered_dense),
// which no package registry we reach ships. The worker only uses
// ankerl::unordered_dense::map, ::set and ::hash<T>, so we alias them onto the
// standard containers. Same interface for what the worker calls; different
// performance (node-based, not dense) and iterator-invalidation rules that are
// stricter than the worker needs (std keeps other iterators valid on erase).
#ifndef VITRINE_SHIM_ANKERL_UNORDERED_DENSE_H
#define VITRINE_SHIM_ANKERL_UNORDERED_DENSE_H

#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace ankerl::unordered_dense
{
	// The worker calls hash<uint8_t>{}(x) etc. directly and uses it as the
	// default hasher of map/set keys.
	template<class T>
	struct hash : std::hash<T>
	{
	};

	template<
	  class Key,
	  class T,
	  class Hash      = hash<Key>,
	  class KeyEqual  = std::equal_to<Key>,
	  class Allocator = std::allocator<std::pair<const Key, T>>>
	using map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;

	template<
	  class Key,
	  class Hash      = hash<Key>,
	  class KeyEqual  = std::equal_to<Key>,
	  class Allocator = std::allocator<Key>>
	using set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;
} // namespace ankerl::unordered_dense

#endif
