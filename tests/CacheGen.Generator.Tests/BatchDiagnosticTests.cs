using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Tests;

/// <summary>
/// [CachedBatch] misuses: CG0040-CG0046 fire from the generator at the user's code with a message naming what to change,
/// and the corrected code is silent and compiles cleanly.
/// </summary>
public sealed class BatchDiagnosticTests
{
    private const string Prelude = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;
        namespace App;

        """;

    // The corrected service most tests end with.
    private const string Valid = """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<string?> GetAsync(int id);
            private Task<string?> GetCoreAsync(int id) => Task.FromResult<string?>("");
            [CachedBatch(nameof(GetAsync))]
            public partial Task<IReadOnlyDictionary<int, string>> GetManyAsync(IReadOnlyList<int> ids);
            private Task<IReadOnlyDictionary<int, string>> GetManyCoreAsync(IReadOnlyList<int> ids) => Task.FromResult<IReadOnlyDictionary<int, string>>(new Dictionary<int, string>());
        }
        """;

    [Theory]
    [InlineData("FindAsync", "has no such method")]
    [InlineData("LoadAsync", "is not a [Cached] method")]
    public void CG0040_batch_target_is_missing_or_not_cached(string target, string why) => Check("CG0040",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<string?> GetAsync(int id);
            private Task<string?> GetCoreAsync(int id) => Task.FromResult<string?>("");
            public Task<string?> LoadAsync(int id) => GetAsync(id);
            [CachedBatch([|"{{target}}"|])]
            public partial Task<IReadOnlyDictionary<int, string>> GetManyAsync(IReadOnlyList<int> ids);
            private Task<IReadOnlyDictionary<int, string>> GetManyCoreAsync(IReadOnlyList<int> ids) => Task.FromResult<IReadOnlyDictionary<int, string>>(new Dictionary<int, string>());
        }
        """,
        Valid,
        ["'GetManyAsync'", $"'{target}'", why]);

    [Theory]
    [InlineData("string tenant, int id", "string tenant, ", "2 arguments", "'tenant', 'id'")]
    [InlineData("int id", "int id, ", "uses only arguments", "'id'")]
    public void CG0041_batch_target_key_varies_in_zero_or_several_arguments(string targetParameters, string batchExtra, string why, string names) => Check("CG0041",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<string?> GetAsync({{targetParameters}});
            private Task<string?> GetCoreAsync({{targetParameters}}) => Task.FromResult<string?>("");
            [CachedBatch([|nameof(GetAsync)|])]
            public partial Task<IReadOnlyDictionary<int, string>> GetManyAsync({{(batchExtra == "string tenant, " ? "" : batchExtra)}}IReadOnlyList<int> ids);
            private Task<IReadOnlyDictionary<int, string>> GetManyCoreAsync({{(batchExtra == "string tenant, " ? "" : batchExtra)}}IReadOnlyList<int> ids) => Task.FromResult<IReadOnlyDictionary<int, string>>(new Dictionary<int, string>());
        }
        """.Replace("Key = \"post:{id}\"", targetParameters.StartsWith("string") ? "Key = \"{tenant}:post:{id}\"" : "Key = \"post:{id}\""),
        Valid,
        ["'GetManyAsync'", "'GetAsync'", why, names]);

    [Fact]
    public void CG0042_batch_ids_are_not_the_key_argument_type() => Check("CG0042",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<string?> GetAsync(int id);
            private Task<string?> GetCoreAsync(int id) => Task.FromResult<string?>("");
            [CachedBatch(nameof(GetAsync))]
            public partial Task<IReadOnlyDictionary<int, string>> GetManyAsync([|IReadOnlyList<long> ids|]);
            private Task<IReadOnlyDictionary<int, string>> GetManyCoreAsync(IReadOnlyList<long> ids) => Task.FromResult<IReadOnlyDictionary<int, string>>(new Dictionary<int, string>());
        }
        """,
        Valid,
        ["'GetManyAsync'", "'GetAsync'", "'id' (int)", "'long'"]);

    [Fact]
    public void CG0042_batch_result_is_keyed_by_another_type() => Check("CG0042",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<string?> GetAsync(int id);
            private Task<string?> GetCoreAsync(int id) => Task.FromResult<string?>("");
            [CachedBatch(nameof(GetAsync))]
            public partial Task<[|IReadOnlyDictionary<string, string>|]> GetManyAsync(IReadOnlyList<int> ids);
            private Task<IReadOnlyDictionary<string, string>> GetManyCoreAsync(IReadOnlyList<int> ids) => Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());
        }
        """,
        Valid,
        ["'GetManyAsync'", "keyed by 'string'"]);

    [Fact]
    public void CG0043_batch_values_are_not_what_the_target_caches() => Check("CG0043",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<string?> GetAsync(int id);
            private Task<string?> GetCoreAsync(int id) => Task.FromResult<string?>("");
            [CachedBatch(nameof(GetAsync))]
            public partial Task<[|IReadOnlyDictionary<int, object>|]> GetManyAsync(IReadOnlyList<int> ids);
            private Task<IReadOnlyDictionary<int, object>> GetManyCoreAsync(IReadOnlyList<int> ids) => Task.FromResult<IReadOnlyDictionary<int, object>>(new Dictionary<int, object>());
        }
        """,
        Valid,
        ["'GetManyAsync'", "'object'", "'GetAsync' caches 'string"]);

    [Theory]
    [InlineData("[|ISet<int> ids|]", "ISet<int> ids", "Task<IReadOnlyDictionary<int, string>>", "'ISet<int>'")]
    [InlineData("IReadOnlyList<int> ids", "IReadOnlyList<int> ids", "Task<[|IDictionary<int, string>|]>", "'Task<IDictionary<int, string>>'")]
    [InlineData("IReadOnlyList<int> ids", "IReadOnlyList<int> ids", "[|IReadOnlyDictionary<int, string>|]", "'IReadOnlyDictionary<int, string>'")]
    public void CG0044_unsupported_batch_collection_or_result(string parameter, string coreParameter, string returnType, string named) => Check("CG0044",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<string?> GetAsync(int id);
            private Task<string?> GetCoreAsync(int id) => Task.FromResult<string?>("");
            [CachedBatch(nameof(GetAsync))]
            public partial {{returnType}} GetManyAsync({{parameter}});
            private {{returnType.Replace("[|", "").Replace("|]", "")}} GetManyCoreAsync({{coreParameter}}) => throw new NotSupportedException();
        }
        """,
        Valid,
        ["'GetManyAsync'", named]);

    [Fact]
    public void CG0045_batch_method_is_itself_cached() => Check("CG0045",
        """
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<string?> GetAsync(int id);
            private Task<string?> GetCoreAsync(int id) => Task.FromResult<string?>("");
            [Cached("posts")]
            [CachedBatch(nameof(GetAsync))]
            public partial Task<IReadOnlyDictionary<int, string>> [|GetManyAsync|](IReadOnlyList<int> ids);
            private Task<IReadOnlyDictionary<int, string>> GetManyCoreAsync(IReadOnlyList<int> ids) => Task.FromResult<IReadOnlyDictionary<int, string>>(new Dictionary<int, string>());
        }
        """,
        Valid,
        ["'GetManyAsync'", "remove [Cached]"]);

    [Theory]
    [InlineData("TtlFrom = nameof(LifetimeOf)", "TtlFrom = \"LifetimeOf\"")]
    [InlineData("Tags = [\"letter:{result}\"]", "tags from the result")]
    public void CG0046_batch_target_takes_its_lifetime_or_tags_from_the_value(string fromValue, string named) => Check("CG0046",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}", {{fromValue}})]
            public partial Task<string> GetAsync(int id);
            private Task<string> GetCoreAsync(int id) => Task.FromResult("");
            private static TimeSpan LifetimeOf(string value) => TimeSpan.FromSeconds(value.Length);
            [CachedBatch([|nameof(GetAsync)|])]
            public partial Task<IReadOnlyDictionary<int, string>> GetManyAsync(IReadOnlyList<int> ids);
            private Task<IReadOnlyDictionary<int, string>> GetManyCoreAsync(IReadOnlyList<int> ids) => Task.FromResult<IReadOnlyDictionary<int, string>>(new Dictionary<int, string>());
        }
        """,
        Valid,
        ["'GetManyAsync'", "'GetAsync'", named, "one by one"]);

    private static void Check(string id, string misuse, string corrected, string[] named) =>
        DiagnosticCheck.Check(Prelude, id, misuse, corrected, named, DiagnosticSeverity.Error);
}
