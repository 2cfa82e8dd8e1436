namespace CacheGen.Generator.Model;

/// <summary>
/// Everything the emitter needs to write one method, as plain equatable data (no symbols, no syntax), so an edit
/// that does not change it leaves the generated source cached.
/// </summary>
internal sealed record MethodModel(
    string HintName,
    string? Namespace,
    EquatableArray<ContainingTypeModel> ContainingTypes,
    string Modifiers,
    string ReturnType,
    ReturnShape Shape,
    string? ResultType,
    string Name,
    string TypeParameterList,
    EquatableArray<string> Constraints,
    EquatableArray<ParameterModel> Parameters,
    string CoreName,
    string CacheExpression,
    bool IsStatic,
    CachedModel? Cached,
    InvalidationModel? Invalidation,
    bool EmitErrorStub);

/// <summary>A type the method is nested in, outermost first: enough to re-declare it as <c>partial</c>.</summary>
internal sealed record ContainingTypeModel(string Modifiers, string Keyword, string Name, string TypeParameterList);

/// <summary>A parameter as it is re-declared on the implementation and passed to the core method.</summary>
internal sealed record ParameterModel(string Name, string Type, string Modifier, bool IsCancellationToken);

/// <summary>How the method returns its value, which decides how the wrapper awaits and returns.</summary>
internal enum ReturnShape
{
    /// <summary><c>Task&lt;T&gt;</c></summary>
    TaskOfT,
    /// <summary><c>ValueTask&lt;T&gt;</c></summary>
    ValueTaskOfT,
    /// <summary>A plain value, synchronously.</summary>
    Value,
    /// <summary><c>Task</c></summary>
    Task,
    /// <summary><c>ValueTask</c></summary>
    ValueTask,
    /// <summary><c>void</c></summary>
    Void,
}

/// <summary>
/// What <c>[Cached]</c> asks for: the entry's region, key, lifetime and tag templates, and the method's name as the
/// runtime labels it (<c>Blog.PostService.GetAsync</c>), and the fingerprint of its value type's shape
/// (<see cref="Parsing.ShapeFingerprint"/>; empty when the type is not known).
/// </summary>
internal sealed record CachedModel(string Region, EquatableArray<KeyPart> Key, int TtlSeconds, EquatableArray<TagModel> Tags, string MethodName,
    Resilience Resilience, string Shape = "");

/// <summary>
/// The fail-safe window, the soft timeout and the conditions of a <c>[Cached]</c> method; <see cref="Unless"/> is the
/// name of its predicate, a static method of the same type.
/// </summary>
internal sealed record Resilience(int StaleSeconds, int TimeoutMilliseconds, bool CacheNull, string? Unless)
{
    public static readonly Resilience None = new(0, 0, CacheNull: true, Unless: null);

    /// <summary>How each stored value's lifetime is decided (jitter); see <see cref="Model.Freshness"/>.</summary>
    public Freshness Freshness { get; init; } = Freshness.None;
}

/// <summary>
/// A tag template resolved against a method's parameters: the parts that write its text (no region prefix), and its
/// <see cref="Signature"/>, the literal text with each placeholder replaced by its type, by which an eviction's template
/// finds the cached methods that use the same one.
/// </summary>
internal sealed record TagModel(EquatableArray<KeyPart> Parts, string Signature, EachModel? Each = null, bool FromResult = false);

/// <summary>
/// What a writing method's <c>[InvalidatesCache]</c> and <c>[UpdatesCache]</c> attributes ask for, all applied after
/// its core method returns: whole regions, single entries by key (a <c>Key</c> template or a typed <c>Method</c>), tags
/// (each in every region whose cached methods declare it), and a write-through.
/// </summary>
internal sealed record InvalidationModel(
    EquatableArray<string> Regions,
    EquatableArray<KeyModel> Keys,
    EquatableArray<TagEviction> Tags,
    UpdateModel? Update);

/// <summary>The full key of one entry (region prefix included).</summary>
internal sealed record KeyModel(EquatableArray<KeyPart> Parts, EachModel? Each = null);

/// <summary>
/// A key or tag written once per element of a collection parameter (evicting many): <see cref="Variable"/>, of type
/// <see cref="ElementType"/>, names the element in the template's parts.
/// </summary>
internal sealed record EachModel(string Collection, string Variable, string ElementType);

/// <summary>
/// A tag template to evict. <see cref="Regions"/> is filled in once the whole compilation's cached methods are known: the
/// regions whose <c>[Cached]</c> methods declare a tag of the same <see cref="TagModel.Signature"/>.
/// </summary>
internal sealed record TagEviction(TagModel Tag, string Template, LocationInfo? Location, EquatableArray<string> Regions,
    EquatableArray<string> FenceRegions = default);

/// <summary>
/// A write-through: the target cached method as the runtime labels it, and its region, lifetime, key and tags built from
/// the writing method's arguments, by the target's own key and tag templates.
/// </summary>
internal sealed record UpdateModel(string MethodName, string Region, int TtlSeconds, EquatableArray<KeyPart> Key, EquatableArray<TagModel> Tags,
    Resilience Resilience, string Shape = "");

/// <summary>A template a <c>[Cached]</c> method declares, for the cross-method checks of evictions.</summary>
internal sealed record TemplateDeclaration(bool IsTag, string Region, string Signature, bool FromResult = false);

/// <summary>
/// One piece of a cache key: literal text, the argument separator, or a value written by a key builder method.
/// <see cref="Width"/> is the most characters the value can take, when its type bounds it (an <c>int</c>: 11).
/// </summary>
internal sealed record KeyPart(KeyPartKind Kind, string Text, string? Format = null, int? Width = null);

internal enum KeyPartKind
{
    /// <summary>Compile-time text, written verbatim.</summary>
    Literal,
    /// <summary>The separator before each argument of a default key.</summary>
    Separator,
    /// <summary>A <c>string</c> expression.</summary>
    String,
    /// <summary>A <c>bool</c> or <c>bool?</c> expression.</summary>
    Boolean,
    /// <summary>An <c>ISpanFormattable</c> expression (or a nullable one), formatted invariantly.</summary>
    SpanFormattable,
    /// <summary>An <c>IFormattable</c> expression, formatted invariantly.</summary>
    Formattable,
    /// <summary>An expression whose type overrides <c>ToString</c>.</summary>
    Object,
    /// <summary>A generic type argument (<c>typeof(T)</c>).</summary>
    Type,
}
