// One atomic change of the catalog (storage-format.md): keys put and keys deleted. Its own
// header because it crosses layers: the broker makes changes, the store applies them, and in a
// cluster they travel through etcd to every node.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace riffle::storage {

struct CatalogChange {
  std::vector<std::pair<std::string, std::string>> puts;
  std::vector<std::string> deletes;
};

// Makes a change the cluster's before the node applies it; an error vetoes the change (this node
// may not change the catalog now). Unset on a single node.
using CatalogPublisher = std::function<Status(const CatalogChange&)>;

}  // namespace riffle::storage
