using System.Collections.Generic;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace CacheGen.Generator.Parsing;

/// <summary>
/// Splits a key template such as <c>post:{post.Id}</c> into literal text and placeholders. <c>{{</c> and <c>}}</c>
/// are literal braces; a placeholder is a parameter name optionally followed by <c>.Member</c> segments.
/// </summary>
internal static class KeyTemplate
{
    internal readonly record struct Segment(bool IsPlaceholder, string Text);

    /// <summary>Returns the segments, or null with <paramref name="error"/> describing what is wrong.</summary>
    public static List<Segment>? Parse(string template, out string? error)
    {
        var segments = new List<Segment>();
        var literal = new StringBuilder();
        error = null;
        for (int i = 0; i < template.Length; i++)
        {
            char c = template[i];
            if (c == '}')
            {
                if (i + 1 < template.Length && template[i + 1] == '}')
                {
                    literal.Append('}');
                    i++;
                    continue;
                }
                error = $"'}}' at position {i} has no matching '{{' (write '}}}}' for a literal brace)";
                return null;
            }
            if (c != '{')
            {
                literal.Append(c);
                continue;
            }
            if (i + 1 < template.Length && template[i + 1] == '{')
            {
                literal.Append('{');
                i++;
                continue;
            }
            int close = template.IndexOf('}', i + 1);
            if (close < 0)
            {
                error = $"'{{' at position {i} is not closed (write '{{{{' for a literal brace)";
                return null;
            }
            string path = template.Substring(i + 1, close - i - 1);
            if (!IsMemberPath(path))
            {
                error = path.Length == 0
                    ? $"the placeholder at position {i} is empty"
                    : $"'{{{path}}}' is not a parameter name or a parameter.Member path (format strings are not supported)";
                return null;
            }
            if (literal.Length > 0)
            {
                segments.Add(new Segment(false, literal.ToString()));
                literal.Clear();
            }
            segments.Add(new Segment(true, path));
            i = close;
        }
        if (literal.Length > 0)
            segments.Add(new Segment(false, literal.ToString()));
        return segments;
    }

    private static bool IsMemberPath(string path)
    {
        if (path.Length == 0)
            return false;
        foreach (string part in path.Split('.'))
        {
            if (!SyntaxFacts.IsValidIdentifier(part))
                return false;
        }
        return true;
    }
}
