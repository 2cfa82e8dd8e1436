namespace CacheGen.SampleApi;

/// <summary>
/// A blog post, as in the Django original (<c>id</c>, <c>title</c>, <c>content</c>), plus a <c>version</c> that every
/// update increments (1 when created), so a client can tell an old copy from the current one. <c>GET /posts/{id}</c>
/// shows it; the <c>GET /posts/</c> list keeps the original three fields.
/// </summary>
/// <remarks>
/// Immutable, and marked so: the in-process cache can hand out the same instance to every caller instead of
/// deserializing a defensive copy per hit.
/// </remarks>
[System.ComponentModel.ImmutableObject(true)]
public sealed record Post(int Id, string Title, string Content, int Version = 1);
