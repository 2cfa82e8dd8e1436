using System.Text.Json.Serialization;

namespace CacheGen.SampleApi;

/// <summary>
/// The types PostService caches, serialized by generated code: with it the cache needs no reflection, so the sample
/// runs trimmed and as Native AOT. Types are listed by reference, so a member added to <see cref="Post"/> is
/// picked up by the next build.
/// </summary>
[JsonSerializable(typeof(IReadOnlyList<Post>))]
[JsonSerializable(typeof(Post))]
[JsonSerializable(typeof(DjangoPostList))]
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
internal sealed partial class CacheJsonContext : JsonSerializerContext;
