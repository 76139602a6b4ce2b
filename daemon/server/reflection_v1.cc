#include "daemon/server/reflection_v1.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <set>

#include "absl/strings/str_cat.h"

namespace nslab::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using grpc::reflection::v1::ServerReflectionRequest;
using grpc::reflection::v1::ServerReflectionResponse;

// Adds `file` and, depth first, every dependency this stream has not been sent yet.
void AddFileAndDependencies(const FileDescriptor* file, std::set<std::string>* sent,
                            grpc::reflection::v1::FileDescriptorResponse* response) {
  if (!sent->insert(file->name()).second) {
    return;
  }
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  response->add_file_descriptor_proto(proto.SerializeAsString());
  for (int i = 0; i < file->dependency_count(); ++i) {
    AddFileAndDependencies(file->dependency(i), sent, response);
  }
}

void SetNotFound(const std::string& what, ServerReflectionResponse* response) {
  auto* error = response->mutable_error_response();
  error->set_error_code(static_cast<int>(grpc::StatusCode::NOT_FOUND));
  error->set_error_message(what);
}

}  // namespace

ReflectionV1Service::ReflectionV1Service(std::vector<std::string> services)
    : services_(std::move(services)) {}

grpc::Status ReflectionV1Service::ServerReflectionInfo(
    grpc::ServerContext*,
    grpc::ServerReaderWriter<ServerReflectionResponse, ServerReflectionRequest>* stream) {
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  std::set<std::string> sent;  // files already sent on this stream
  ServerReflectionRequest request;
  while (stream->Read(&request)) {
    ServerReflectionResponse response;
    response.set_valid_host(request.host());
    *response.mutable_original_request() = request;
    switch (request.message_request_case()) {
      case ServerReflectionRequest::kFileByFilename: {
        const FileDescriptor* file = pool->FindFileByName(request.file_by_filename());
        if (file == nullptr) {
          SetNotFound(absl::StrCat("no file named ", request.file_by_filename()), &response);
        } else {
          AddFileAndDependencies(file, &sent, response.mutable_file_descriptor_response());
        }
        break;
      }
      case ServerReflectionRequest::kFileContainingSymbol: {
        const FileDescriptor* file =
            pool->FindFileContainingSymbol(request.file_containing_symbol());
        if (file == nullptr) {
          SetNotFound(absl::StrCat("no symbol named ", request.file_containing_symbol()),
                      &response);
        } else {
          AddFileAndDependencies(file, &sent, response.mutable_file_descriptor_response());
        }
        break;
      }
      case ServerReflectionRequest::kFileContainingExtension: {
        const auto& asked = request.file_containing_extension();
        const Descriptor* type = pool->FindMessageTypeByName(asked.containing_type());
        const FieldDescriptor* extension =
            type == nullptr ? nullptr : pool->FindExtensionByNumber(type, asked.extension_number());
        if (extension == nullptr) {
          SetNotFound(absl::StrCat("no extension ", asked.extension_number(), " of ",
                                   asked.containing_type()),
                      &response);
        } else {
          AddFileAndDependencies(extension->file(), &sent,
                                 response.mutable_file_descriptor_response());
        }
        break;
      }
      case ServerReflectionRequest::kAllExtensionNumbersOfType: {
        const Descriptor* type =
            pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
        if (type == nullptr) {
          SetNotFound(
              absl::StrCat("no message type named ", request.all_extension_numbers_of_type()),
              &response);
          break;
        }
        std::vector<const FieldDescriptor*> extensions;
        pool->FindAllExtensions(type, &extensions);
        auto* numbers = response.mutable_all_extension_numbers_response();
        numbers->set_base_type_name(type->full_name());
        for (const FieldDescriptor* extension : extensions) {
          numbers->add_extension_number(extension->number());
        }
        break;
      }
      case ServerReflectionRequest::kListServices:
        for (const auto& name : services_) {
          response.mutable_list_services_response()->add_service()->set_name(name);
        }
        break;
      default:
        return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                            "the reflection request names no known message_request");
    }
    if (!stream->Write(response)) {
      break;
    }
  }
  return grpc::Status::OK;
}

}  // namespace nslab::server
