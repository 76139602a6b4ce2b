#include "daemon/nft/nft_context.h"

#include <nftables/libnftables.h>

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "daemon/netns/netns.h"

namespace nslab::nft {
namespace {

struct CtxFree {
  void operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }
};

}  // namespace

absl::StatusOr<std::string> RunCommands(int netns_fd, absl::string_view commands,
                                        const NftOptions& options) {
  absl::StatusOr<std::string> result = absl::UnknownError("nft did not run");
  // libnftables talks to the kernel through a netlink socket of the calling thread's
  // namespace, so the whole context lives and dies inside the node.
  auto status = netns::RunIn(netns_fd, [&]() -> absl::Status {
    std::unique_ptr<nft_ctx, CtxFree> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
    if (!ctx) {
      result = absl::ResourceExhaustedError("nft_ctx_new failed");
      return absl::OkStatus();
    }
    unsigned flags = 0;
    if (options.json_output) {
      flags |= NFT_CTX_OUTPUT_JSON;
    }
    if (options.with_handles) {
      flags |= NFT_CTX_OUTPUT_HANDLE;
    }
    nft_ctx_output_set_flags(ctx.get(), flags);
    nft_ctx_set_dry_run(ctx.get(), options.dry_run);
    nft_ctx_buffer_output(ctx.get());
    nft_ctx_buffer_error(ctx.get());
    const std::string text(commands);
    if (nft_run_cmd_from_buffer(ctx.get(), text.c_str()) != 0) {
      std::string error = nft_ctx_get_error_buffer(ctx.get());
      const absl::string_view text = absl::StripTrailingAsciiWhitespace(error);
      // EOPNOTSUPP is the kernel's nf_tables lacking a family, hook or expression the
      // commands use: a limit of this machine, not a mistake in them.
      if (absl::StrContains(text, "Operation not supported")) {
        result = absl::FailedPreconditionError(absl::StrCat(
            "nftables: this kernel's nf_tables lacks a family, hook or expression these rules "
            "need (nslab caps lists what it has): ",
            text));
      } else {
        result = absl::InvalidArgumentError(absl::StrCat("nftables: ", text));
      }
      return absl::OkStatus();
    }
    result = std::string(nft_ctx_get_output_buffer(ctx.get()));
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  return result;
}

}  // namespace nslab::nft
