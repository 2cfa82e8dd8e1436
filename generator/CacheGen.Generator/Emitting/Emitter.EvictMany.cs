using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CacheGen.Generator.Model;
using CacheGen.Infrastructure;

namespace CacheGen.Generator.Emitting;

// Evicting many: keys and tags written once per element of a collection parameter.
internal static partial class Emitter
{
    private const string StringList = "global::System.Collections.Generic.List<string>";

    /// <summary>For each key of many: a local function listing one key per element, and one building the key of an element.</summary>
    private static void WriteManyKeys(SourceWriter writer, List<(string Name, KeyModel Key)> manyKeys)
    {
        foreach ((string name, KeyModel key) in manyKeys)
        {
            EachModel each = key.Each!;
            writer.WriteLine();
            writer.OpenBlock($"{StringList} {name}()");
            writer.WriteLine($"var __keys = new {StringList}();");
            writer.WriteLine($"if ({each.Collection} is not null)");
            writer.Indent();
            writer.WriteLine($"foreach (var __element in {each.Collection})");
            writer.Indent();
            writer.WriteLine($"__keys.Add({name}Of(__element));");
            writer.Unindent();
            writer.Unindent();
            writer.WriteLine("return __keys;");
            writer.CloseBlock();
            writer.WriteLine();
            writer.OpenBlock($"string {name}Of({each.ElementType} {each.Variable})");
            WithKeyBuilder(writer, key.Parts, "var __result = __key.ToString();");
            writer.CloseBlock();
        }
    }

    /// <summary>The evicted tags when a template names a collection: a list, with one tag per element of it.</summary>
    private static void WriteManyTags(SourceWriter writer, InvalidationModel invalidation)
    {
        writer.WriteLine();
        writer.OpenBlock($"{StringList} __CacheGenEvictedTags()");
        writer.WriteLine($"var __tags = new {StringList}();");
        writer.WriteLine("string __tag;");
        foreach (string region in invalidation.Regions)
            writer.WriteLine($"__tags.Add({Literal(region)});");
        foreach (TagEviction tag in invalidation.Tags.Where(t => t.Regions.Count > 0))
        {
            if (tag.Tag.Each is { } each)
            {
                writer.WriteLine($"if ({each.Collection} is not null)");
                writer.Indent();
                writer.OpenBlock($"foreach (var {each.Variable} in {each.Collection})");
            }
            WriteBuild(writer, tag.Tag.Parts, "__tag");
            foreach (string region in tag.Regions)
                writer.WriteLine($"__tags.Add({Literal(KeyFormat.RegionPrefix(region))} + __tag);");
            if (tag.Tag.Each is not null)
            {
                writer.CloseBlock();
                writer.Unindent();
            }
        }
        writer.WriteLine("return __tags;");
        writer.CloseBlock();
    }
}
