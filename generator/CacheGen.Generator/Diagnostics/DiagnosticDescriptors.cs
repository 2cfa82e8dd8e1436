using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Diagnostics;

/// <summary>Every diagnostic CacheGen reports. IDs are stable: never reuse or renumber one.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "CacheGen";

    /// <summary>
    /// Help links are relative to the repository root (<c>docs/diagnostics/CG0001.md</c>): CacheGen has no published
    /// documentation host, and a made-up absolute URL would send users nowhere. A fork that publishes its docs can
    /// change this one constant to its own absolute base.
    /// </summary>
    public const string HelpLinkBase = "docs/diagnostics/";

    public static string HelpLink(string id) => HelpLinkBase + id + ".md";

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink(id));

    private static DiagnosticDescriptor Warning(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpLink(id));

    public static readonly DiagnosticDescriptor NotPartialDeclaration = Error(
        "CG0001",
        "A cached or invalidating method must be a partial method declaration",
        "'{0}' must be a partial method declaration without a body, such as '{2}': CacheGen writes its implementation{1}");

    public static readonly DiagnosticDescriptor ContainingTypeNotPartial = Error(
        "CG0002",
        "The containing type must be partial",
        "Type '{0}' must be declared 'partial' because it contains the CacheGen method '{1}'");

    public static readonly DiagnosticDescriptor MissingCoreMethod = Error(
        "CG0003",
        "The core method is missing",
        "'{0}' needs a core method '{1}' with the same parameters and return type that does the real work, e.g. '{2}'");

    public static readonly DiagnosticDescriptor CoreMethodSignatureMismatch = Error(
        "CG0004",
        "The core method's signature does not match",
        "Core method '{0}' must have the same parameters (types, order and ref kinds), type parameters, static-ness and return type as '{1}': expected '{2}'");

    public static readonly DiagnosticDescriptor UncachableReturnType = Error(
        "CG0005",
        "The return type cannot be cached",
        "'{0}' returns '{1}', which has no value to cache; a [Cached] method returns Task<T>, ValueTask<T> or a plain T");

    public static readonly DiagnosticDescriptor UnsupportedParameter = Error(
        "CG0006",
        "The parameter kind is not supported",
        "Parameter '{0}' of '{1}' is {2}, which a cached or invalidating method cannot take: the call may complete after the method returns");

    public static readonly DiagnosticDescriptor UnknownKeyPlaceholder = Error(
        "CG0007",
        "A placeholder names no parameter or member",
        "{0} placeholder '{{{1}}}' of '{2}' does not name {3}");

    public static readonly DiagnosticDescriptor MissingHybridCache = Error(
        "CG0008",
        "No HybridCache member found",
        "Type '{0}' has no {1}field, property or primary-constructor parameter of type Microsoft.Extensions.Caching.Hybrid.HybridCache for '{2}' to use{3}");

    public static readonly DiagnosticDescriptor MultipleHybridCaches = Error(
        "CG0009",
        "More than one HybridCache member",
        "Type '{0}' has more than one HybridCache field, property or primary-constructor parameter ({1}); CacheGen cannot tell which one '{2}' should use");

    public static readonly DiagnosticDescriptor InvalidRegion = Error(
        "CG0010",
        "The region name is invalid",
        "Region name '{0}' is invalid: a region is a non-empty name without '{{' or '}}'");

    public static readonly DiagnosticDescriptor NegativeTtl = Error(
        "CG0011",
        "TtlSeconds must not be negative",
        "TtlSeconds of '{0}' is {1}; use a positive number of seconds, or 0 for the runtime's default expiration");

    public static readonly DiagnosticDescriptor NoStableTextForm = Error(
        "CG0012",
        "A key value has no stable text form",
        "{0} of type '{1}' has no stable text form for a cache key (its ToString is not overridden and it is not IFormattable), so different values could share one key; give '{2}' a Key template of members that do, override ToString, or implement IFormattable");

    public static readonly DiagnosticDescriptor UnusedRegion = new(
        "CG0013",
        "No [Cached] method uses this region",
        "No [Cached] method in this compilation uses region '{0}', so evicting it does nothing here; is the name misspelled?",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        helpLinkUri: HelpLink("CG0013"),
        // Needs every method of the compilation, so the analyzer reports it at compilation end.
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor KeyNeedsSingleRegion = Error(
        "CG0014",
        "A keyed eviction names exactly one region",
        "'{0}' evicts a single entry with Key, so [InvalidatesCache] must name exactly one region (it names {1})");

    public static readonly DiagnosticDescriptor CachedAndInvalidates = Error(
        "CG0015",
        "A method cannot both cache and invalidate",
        "'{0}' has both [Cached] and [{1}]; a method either reads through the cache or writes to it");

    public static readonly DiagnosticDescriptor MalformedKeyTemplate = Error(
        "CG0016",
        "The key template is malformed",
        "Key template \"{0}\" of '{1}' is malformed: {2}");

    public static readonly DiagnosticDescriptor HybridCacheParameterHidden = Error(
        "CG0017",
        "A parameter hides the HybridCache primary-constructor parameter",
        "Parameter '{0}' of '{1}' has the same name as the primary-constructor parameter that holds the HybridCache, so the generated code could not reach the cache; rename one of them");

    public static readonly DiagnosticDescriptor UnsharedCachedType = Warning(
        "CG0018",
        "Cached values of a mutable type are deserialized on every hit",
        "'{0}' caches '{1}', which is not known to be immutable, so every in-process hit deserializes a new copy for the caller; if its instances never change, {2}, so that one instance is shared");

    public static readonly DiagnosticDescriptor InvalidationBeforeCompletion = Error(
        "CG0019",
        "The eviction would come before the method's work",
        "'{0}' returns '{1}', and {2}: the eviction after the call would come before the writes, so a reader could cache the old data again; return Task, Task<T>, ValueTask, ValueTask<T> or a materialized value");

    public static readonly DiagnosticDescriptor NoDeserializationConstructor = Warning(
        "CG0020",
        "A cached type has no constructor System.Text.Json can use",
        "'{0}' caches '{1}', but System.Text.Json cannot create '{2}' when it reads a cached value back: {3}; mark the constructor to use [JsonConstructor], or add a public parameterless one");

    public static readonly DiagnosticDescriptor GetOnlyPropertyNotRestored = Warning(
        "CG0021",
        "A get-only property of a cached type is lost on a cache hit",
        "'{0}' caches '{1}', but property '{2}' has no public setter and no constructor parameter named '{3}', so System.Text.Json leaves it at its default when a cached value is read back; add an init accessor or a constructor parameter of that name, or mark it [JsonInclude]");

    public static readonly DiagnosticDescriptor FieldsNotSerialized = Warning(
        "CG0022",
        "Fields of a cached type are not serialized",
        "'{0}' caches '{1}', but {2}, and System.Text.Json skips fields by default, so a cached value reads back with {3} at its default; use properties instead (a record, say), or mark the field [JsonInclude]");

    public static readonly DiagnosticDescriptor UnsupportedDictionaryKey = Warning(
        "CG0023",
        "A dictionary key type of a cached type cannot be serialized",
        "'{0}' caches '{1}', but System.Text.Json cannot write '{2}', the key type of '{3}', as a JSON property name, so the value cannot be stored in the cache; key it by a string, number, enum or Guid, or cache a list of pairs");

    public static readonly DiagnosticDescriptor UnknownTag = Error(
        "CG0024",
        "An evicted tag is declared by no cached method",
        "Tag template '{0}' on '{1}' matches no tag of a [Cached] method in this compilation (same text, placeholders of the same types), so it would evict nothing; declare it with [Cached(..., Tags = [...])] or fix the template");

    public static readonly DiagnosticDescriptor UnknownKeyTemplate = Warning(
        "CG0025",
        "An evicted key template matches no cached key",
        "Key template '{0}' on '{1}' matches the key template of no [Cached] method of region '{2}' in this compilation (same text, placeholders of the same types), so it may evict nothing; use the cached method's template, or InvalidatesCache(Method = nameof(...))");

    public static readonly DiagnosticDescriptor UnknownCachedMethod = Error(
        "CG0026",
        "The named method is not a cached method of the type",
        "'{0}' on '{1}' names '{2}', which is not a [Cached] method of '{3}'; name one with nameof");

    public static readonly DiagnosticDescriptor CachedMethodArgumentMissing = Error(
        "CG0027",
        "The writing method cannot supply the cached method's key",
        "'{0}' on '{1}' cannot build the entry of '{2}': {3}");

    public static readonly DiagnosticDescriptor UpdateResultTypeMismatch = Error(
        "CG0028",
        "A write-through's result is not what the cached method caches",
        "[UpdatesCache] on '{0}' stores its result as the entry of '{1}', which caches '{2}', but '{0}' returns {3}");

    public static readonly DiagnosticDescriptor NothingToEvict = Error(
        "CG0029",
        "An [InvalidatesCache] names nothing to evict",
        "[InvalidatesCache] on '{0}' names no region, Key, Tags or Method; say what the write changes, such as [InvalidatesCache(\"posts\")] or [InvalidatesCache(Tags = [\"post:{{post.Id}}\"])]");

    public static readonly DiagnosticDescriptor CachedEntityType = Warning(
        "CG0030",
        "A cached method returns an EF Core entity type",
        "'{0}' caches '{1}', an EF Core entity type ('{2}' has a DbSet<{1}>): a miss returns entities tracked by the DbContext that loaded them, a hit returns detached copies, so changes saved after a hit are silently lost; cache a DTO or an immutable record projected with Select instead");
    public static readonly DiagnosticDescriptor InvalidUnlessPredicate = Error(
        "CG0031",
        "Unless does not name a usable predicate",
        "Unless = \"{0}\" on '{1}' must name a static method of '{2}' that takes the cached '{3}' and returns bool ({4})");

    public static readonly DiagnosticDescriptor InvalidResilience = Error(
        "CG0032",
        "StaleSeconds or TimeoutMilliseconds is invalid",
        "'{0}' has {1}");

    public static readonly DiagnosticDescriptor BackgroundFillUsesScopedContext = Warning(
        "CG0033",
        "A fill that finishes in the background uses the caller's DbContext",
        "{0} lets '{1}' run its core method in the background after its caller got {2}, but '{3}' takes '{4}' (a DbContext, scoped to the caller's request) in its constructor: the request's end disposes it under the background call; take an IDbContextFactory<{4}> and create a context per call");

    public static readonly DiagnosticDescriptor BatchTargetNotCached = Error(
        "CG0040",
        "[CachedBatch] names no [Cached] method of the type",
        "[CachedBatch] on '{0}' names '{1}', {2}");

    public static readonly DiagnosticDescriptor BatchKeyArgumentCount = Error(
        "CG0041",
        "The batch's target must have exactly one key argument that varies",
        "[CachedBatch] on '{0}' reads '{1}', whose key {2}: a batch varies exactly one argument of the key, the one its collection holds");

    public static readonly DiagnosticDescriptor BatchIdTypeMismatch = Error(
        "CG0042",
        "The batch's ids are not the target's key argument",
        "'{0}' reads '{1}' by its key argument '{2}' ({3}), but {4}");

    public static readonly DiagnosticDescriptor BatchValueTypeMismatch = Error(
        "CG0043",
        "The batch's values are not what the target caches",
        "'{0}' returns values of type '{1}', but '{2}' caches '{3}': a batch returns the very entries its target caches");

    public static readonly DiagnosticDescriptor BatchUnsupportedType = Error(
        "CG0044",
        "Unsupported batch collection or result type",
        "'{0}' {1}");

    public static readonly DiagnosticDescriptor BatchIsCached = Error(
        "CG0045",
        "A [CachedBatch] method cannot also be [Cached]",
        "'{0}' has both [CachedBatch] and [Cached]: a batch stores each value as its target's entry, not the whole dictionary as one; remove [Cached]");

    public static readonly DiagnosticDescriptor BatchTargetDecidesFromValue = Error(
        "CG0046",
        "A batch cannot read a method whose entries are shaped by their value",
        "[CachedBatch] on '{0}' reads '{1}', which has {2}: a batch does not apply what each value decides to the entries it stores yet; read those ids through '{1}' one by one, or take the lifetime and tags from the arguments");

    public static readonly DiagnosticDescriptor PercentOutOfRange = Error(
        "CG0050",
        "A freshness percentage is out of range",
        "'{0}' has {1}");

    public static readonly DiagnosticDescriptor TtlFromWithTtlSeconds = Error(
        "CG0051",
        "TtlFrom and TtlSeconds are both set",
        "'{0}' takes each entry's lifetime from its value (TtlFrom = \"{1}\") and also sets TtlSeconds = {2}; one lifetime applies, so remove TtlSeconds (or TtlFrom)");

    public static readonly DiagnosticDescriptor InvalidTtlFrom = Error(
        "CG0052",
        "TtlFrom does not name a usable lifetime function",
        "TtlFrom = \"{0}\" on '{1}' must name a static method of '{2}' that takes the cached '{3}' and returns TimeSpan ({4})");

    public static readonly DiagnosticDescriptor ResultPlaceholderMisused = Error(
        "CG0053",
        "A {result} placeholder is misused",
        "'{0}' on '{1}' cannot take its value from the result: {2}");

    public static readonly DiagnosticDescriptor DecoratorNotInterface = Error(
        "CG0060",
        "A cache decorator decorates an interface",
        "[CacheDecorator] on '{0}' names '{1}', which is not an interface: a decorator implements the interface of the service it wraps");

    public static readonly DiagnosticDescriptor DecoratorInnerParameter = Error(
        "CG0061",
        "A cache decorator needs one inner constructor parameter",
        "'{0}' needs exactly one primary-constructor parameter of type '{1}', the inner service its members forward to, e.g. 'class {0}({1} inner, HybridCache cache)'{2}");

    public static readonly DiagnosticDescriptor DecoratorMethodNotInInterface = Error(
        "CG0062",
        "A decorator's method matches no member of the interface",
        "'{0}' has no core method '{2}' and matches no member of '{1}' (same name, parameters and return type), so the inner service cannot do its work; match the interface member or write '{2}'");

    public static readonly DiagnosticDescriptor DecoratorNotPartial = Error(
        "CG0063",
        "A cache decorator must be partial",
        "Type '{0}' must be declared 'partial': [CacheDecorator] makes CacheGen implement '{1}' in it");

    public static readonly DiagnosticDescriptor DecoratorOpenGeneric = Error(
        "CG0064",
        "A cache decorator cannot decorate an open generic interface",
        "[CacheDecorator] on '{0}' names the open generic interface '{1}': registering a decorator of every instantiation needs reflection that Native AOT cannot do; decorate each closed interface (such as typeof({2})) with its own class");

    public static readonly DiagnosticDescriptor NoHybridCacheRegistered = Warning(
        "CG0070",
        "The app registers no HybridCache for its cached services",
        "This app builds its services here, and '{0}' needs a HybridCache for its CacheGen methods, but nothing in the app registers one, so resolving '{0}' fails at run time with 'Unable to resolve service for type HybridCache'; call AddCacheGen() on the service collection (package CacheGen.Redis), or register another HybridCache (AddHybridCache(), FusionCache's AsHybridCache())");

    public static readonly DiagnosticDescriptor EvictionBeforeEfCoreCommit = Warning(
        "CG0071",
        "Evictions inside this EF Core transaction are not repeated after its commit",
        "'{0}' opens an EF Core transaction that CacheGen cannot see, and this app has [InvalidatesCache] methods: an eviction made inside it runs once, before the commit, so a reader that fills from the old row until the commit keeps it for the entry's whole lifetime; add .AddCacheGenInvalidation() (package CacheGen.EntityFrameworkCore) to the DbContext's options");

    /// <summary>Every descriptor, in ID order (declared last: static fields initialise in textual order).</summary>
    public static readonly System.Collections.Immutable.ImmutableArray<DiagnosticDescriptor> All = System.Collections.Immutable.ImmutableArray.Create(
        NotPartialDeclaration,
        ContainingTypeNotPartial,
        MissingCoreMethod,
        CoreMethodSignatureMismatch,
        UncachableReturnType,
        UnsupportedParameter,
        UnknownKeyPlaceholder,
        MissingHybridCache,
        MultipleHybridCaches,
        InvalidRegion,
        NegativeTtl,
        NoStableTextForm,
        UnusedRegion,
        KeyNeedsSingleRegion,
        CachedAndInvalidates,
        MalformedKeyTemplate,
        HybridCacheParameterHidden,
        UnsharedCachedType,
        InvalidationBeforeCompletion,
        NoDeserializationConstructor,
        GetOnlyPropertyNotRestored,
        FieldsNotSerialized,
        UnsupportedDictionaryKey,
        UnknownTag,
        UnknownKeyTemplate,
        UnknownCachedMethod,
        CachedMethodArgumentMissing,
        UpdateResultTypeMismatch,
        NothingToEvict,
        CachedEntityType,
        InvalidUnlessPredicate,
        InvalidResilience,
        BackgroundFillUsesScopedContext,
        BatchTargetNotCached,
        BatchKeyArgumentCount,
        BatchIdTypeMismatch,
        BatchValueTypeMismatch,
        BatchUnsupportedType,
        BatchIsCached,
        BatchTargetDecidesFromValue,
        PercentOutOfRange,
        TtlFromWithTtlSeconds,
        InvalidTtlFrom,
        ResultPlaceholderMisused,
        DecoratorNotInterface,
        DecoratorInnerParameter,
        DecoratorMethodNotInInterface,
        DecoratorNotPartial,
        DecoratorOpenGeneric,
        NoHybridCacheRegistered,
        EvictionBeforeEfCoreCommit);

    /// <summary>
    /// The descriptors the analyzer reports; the generator reports every other one. These three need what no attributed
    /// method holds (the app's DbContexts, its service registrations, its transactions), and they are warnings about how
    /// the app runs, which matters only once it compiles.
    /// </summary>
    public static readonly System.Collections.Immutable.ImmutableArray<DiagnosticDescriptor> ReportedByAnalyzer =
        System.Collections.Immutable.ImmutableArray.Create(CachedEntityType, NoHybridCacheRegistered, EvictionBeforeEfCoreCommit);

    private static readonly Dictionary<string, DiagnosticDescriptor> ByIdMap = All.ToDictionary(d => d.Id);

    public static DiagnosticDescriptor ById(string id) => ByIdMap[id];
}
