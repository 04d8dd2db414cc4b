// The native gRPC API's request path behind gRPC's transport: the first byte picks a call, the
// rest is parsed as that call's request message (protobuf wire format, as gRPC deserializes it),
// then what RiffleService does with it: StreamNamed and AdmitCall (its Deny without a
// credentials file), the FromProto conversion, the broker call on a real broker on a scratch
// store (scratch_broker.h), and ToProto on what the broker answers.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "riffle/v1/riffle.pb.h"
#include "server/api/grpc/call_auth.h"
#include "server/api/grpc/convert.h"
#include "server/broker/broker.h"
#include "tests/fuzz/scratch_broker.h"

namespace {

using riffle::broker::Broker;
using riffle::broker::RequestContext;
using riffle::grpc_api::FromProto;
using riffle::grpc_api::ToProto;
namespace v1 = riffle::v1;

using Call = std::function<void(Broker&, std::string_view)>;

// The broker request a message stands for: FromProto of the message, or of the one member that
// names what the call acts on, as RiffleService passes it.
template <typename Request>
auto Convert(const Request& request) {
  return FromProto(request);
}
auto Convert(const v1::DescribeStreamSummaryRequest& request) {
  return FromProto(request.stream());
}
auto Convert(const v1::DeregisterStreamConsumerRequest& request) {
  return FromProto(request.consumer());
}
auto Convert(const v1::DescribeStreamConsumerRequest& request) {
  return FromProto(request.consumer());
}
auto Convert(const v1::DeleteConsumerGroupRequest& request) {
  return FromProto(request.group());
}
auto Convert(const v1::DescribeConsumerGroupRequest& request) {
  return FromProto(request.group());
}

// One call as RiffleService makes it: the message as gRPC hands it over (one that does not parse
// never reaches the service), the admission check every call makes first, the broker method,
// and, when the answer has a Response message, ToProto into it.
template <typename Request, typename Response = void, typename Result, typename BrokerRequest>
Call Rpc(std::string_view action,
         Result (Broker::*method)(const RequestContext&, const BrokerRequest&)) {
  return [action, method](Broker& broker, std::string_view bytes) {
    Request request;
    if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return;
    }
    const RequestContext ctx;
    if (!broker.AdmitCall(ctx, action, riffle::grpc_api::StreamNamed(request)).ok()) {
      return;
    }
    [[maybe_unused]] Result result = (broker.*method)(ctx, Convert(request));
    if constexpr (!std::is_void_v<Response>) {
      if (result.ok()) {
        Response response;
        ToProto(std::move(result).value(), response);
      }
    }
  };
}

// The calls of riffle.proto's service whose requests carry members, in the service's order: the
// selector byte is the index (modulo the count), as the seeds' file names say.
const std::vector<Call>& Calls() {
  static const std::vector<Call> calls = {
      Rpc<v1::CreateStreamRequest>("CreateStream", &Broker::CreateStream),
      Rpc<v1::DeleteStreamRequest>("DeleteStream", &Broker::DeleteStream),
      Rpc<v1::DescribeStreamRequest, v1::StreamDescription>("DescribeStream",
                                                            &Broker::DescribeStream),
      Rpc<v1::DescribeStreamSummaryRequest, v1::StreamDescription>("DescribeStreamSummary",
                                                                   &Broker::DescribeStreamSummary),
      Rpc<v1::ListStreamsRequest, v1::ListStreamsResponse>("ListStreams", &Broker::ListStreams),
      Rpc<v1::ListShardsRequest, v1::ListShardsResponse>("ListShards", &Broker::ListShards),
      Rpc<v1::PutRecordRequest, v1::PutRecordResponse>("PutRecord", &Broker::PutRecord),
      Rpc<v1::PutRecordsRequest, v1::PutRecordsResponse>("PutRecords", &Broker::PutRecords),
      Rpc<v1::GetShardIteratorRequest>("GetShardIterator", &Broker::GetShardIterator),
      Rpc<v1::GetRecordsRequest, v1::GetRecordsResponse>("GetRecords", &Broker::GetRecords),
      Rpc<v1::RetentionRequest>("IncreaseStreamRetentionPeriod",
                                &Broker::IncreaseStreamRetentionPeriod),
      Rpc<v1::RetentionRequest>("DecreaseStreamRetentionPeriod",
                                &Broker::DecreaseStreamRetentionPeriod),
      Rpc<v1::AddTagsRequest>("AddTagsToStream", &Broker::AddTagsToStream),
      Rpc<v1::RemoveTagsRequest>("RemoveTagsFromStream", &Broker::RemoveTagsFromStream),
      Rpc<v1::ListTagsRequest, v1::ListTagsResponse>("ListTagsForStream",
                                                     &Broker::ListTagsForStream),
      Rpc<v1::EnhancedMonitoringRequest, v1::EnhancedMonitoringResponse>(
          "EnableEnhancedMonitoring", &Broker::EnableEnhancedMonitoring),
      Rpc<v1::EnhancedMonitoringRequest, v1::EnhancedMonitoringResponse>(
          "DisableEnhancedMonitoring", &Broker::DisableEnhancedMonitoring),
      Rpc<v1::EncryptionRequest>("StartStreamEncryption", &Broker::StartStreamEncryption),
      Rpc<v1::EncryptionRequest>("StopStreamEncryption", &Broker::StopStreamEncryption),
      Rpc<v1::UpdateStreamModeRequest>("UpdateStreamMode", &Broker::UpdateStreamMode),
      Rpc<v1::UpdateMaxRecordSizeRequest>("UpdateMaxRecordSize", &Broker::UpdateMaxRecordSize),
      Rpc<v1::UpdateStreamWarmThroughputRequest, v1::UpdateStreamWarmThroughputResponse>(
          "UpdateStreamWarmThroughput", &Broker::UpdateStreamWarmThroughput),
      Rpc<v1::UpdateAccountSettingsRequest, v1::AccountSettings>("UpdateAccountSettings",
                                                                 &Broker::UpdateAccountSettings),
      Rpc<v1::PutResourcePolicyRequest>("PutResourcePolicy", &Broker::PutResourcePolicy),
      Rpc<v1::GetResourcePolicyRequest>("GetResourcePolicy", &Broker::GetResourcePolicy),
      Rpc<v1::DeleteResourcePolicyRequest>("DeleteResourcePolicy", &Broker::DeleteResourcePolicy),
      Rpc<v1::SplitShardRequest>("SplitShard", &Broker::SplitShard),
      Rpc<v1::MergeShardsRequest>("MergeShards", &Broker::MergeShards),
      Rpc<v1::UpdateShardCountRequest, v1::UpdateShardCountResponse>("UpdateShardCount",
                                                                     &Broker::UpdateShardCount),
      Rpc<v1::RegisterStreamConsumerRequest, v1::Consumer>("RegisterStreamConsumer",
                                                           &Broker::RegisterStreamConsumer),
      Rpc<v1::DeregisterStreamConsumerRequest>("DeregisterStreamConsumer",
                                               &Broker::DeregisterStreamConsumer),
      Rpc<v1::DescribeStreamConsumerRequest, v1::Consumer>("DescribeStreamConsumer",
                                                           &Broker::DescribeStreamConsumer),
      Rpc<v1::ListStreamConsumersRequest, v1::ListStreamConsumersResponse>(
          "ListStreamConsumers", &Broker::ListStreamConsumers),
      Rpc<v1::CreateConsumerGroupRequest>("CreateConsumerGroup", &Broker::CreateConsumerGroup),
      Rpc<v1::DeleteConsumerGroupRequest>("DeleteConsumerGroup", &Broker::DeleteConsumerGroup),
      Rpc<v1::DescribeConsumerGroupRequest, v1::DescribeConsumerGroupResponse>(
          "DescribeConsumerGroup", &Broker::DescribeConsumerGroup),
      Rpc<v1::LeaseShardRequest, v1::LeaseShardResponse>("LeaseShard", &Broker::LeaseShard),
      Rpc<v1::ReleaseShardLeaseRequest>("ReleaseShardLease", &Broker::ReleaseShardLease),
      Rpc<v1::CheckpointRequest>("Checkpoint", &Broker::Checkpoint),
      Rpc<v1::SubscribeToShardRequest>("SubscribeToShard", &Broker::Subscribe),
  };
  return calls;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  Broker& broker = riffle::fuzz::ScratchBrokerForInput();
  const std::vector<Call>& calls = Calls();
  calls[data[0] % calls.size()](
      broker, std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
