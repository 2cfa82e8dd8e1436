namespace CacheGen.SampleApi;

/// <summary>A blog post, as in the Django original (<c>id</c>, <c>title</c>, <c>content</c>).</summary>
/// <remarks>
/// Immutable, and marked so: the in-process cache can hand out the same instance to every caller instead of
/// deserializing a defensive copy per hit.
/// </remarks>
[System.ComponentModel.ImmutableObject(true)]
public sealed record Post(int Id, string Title, string Content);
