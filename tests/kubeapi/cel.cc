// CEL subset: tokenizer, recursive-descent parser into a small AST, and a tree-walking evaluator
// over nlohmann::json values (object = CEL map, array = CEL list).
#include "tests/kubeapi/cel.h"

#include <cctype>
#include <map>
#include <regex>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kustodian::kubeapi::cel {

using json = nlohmann::json;

struct Node {
  enum Kind {
    kLiteral,
    kIdent,
    kSelect,
    kIndex,
    kCall,
    kMethod,
    kUnary,
    kBinary,
    kTernary,
    kList,
    kMap,
    kHas,
    kMacro
  } kind;
  json literal;                             // kLiteral
  std::string name;                         // ident, field, function, operator, macro var
  std::string macro;                        // kMacro: all, exists, ...
  std::vector<std::shared_ptr<Node>> args;  // operands / receiver first for kMethod & kMacro
};

namespace {

using NodeP = std::shared_ptr<Node>;

struct Token {
  enum Kind { kEnd, kIdent, kInt, kDouble, kString, kOp } kind;
  std::string text;
  size_t pos = 0;
};

absl::StatusOr<std::vector<Token>> Tokenize(const std::string& s) {
  std::vector<Token> out;
  size_t i = 0;
  static const std::vector<std::string> kOps = {"==", "!=", "<=", ">=", "&&", "||", "<", ">",
                                                "!",  "?",  ":",  ".",  ",",  "(",  ")", "[",
                                                "]",  "{",  "}",  "+",  "-",  "*",  "/", "%"};
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = i;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) {
        ++i;
      }
      out.push_back({Token::kIdent, s.substr(start, i - start), start});
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = i;
      bool is_double = false;
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' ||
                              s[i] == 'e' || s[i] == 'E')) {
        is_double = is_double || !std::isdigit(static_cast<unsigned char>(s[i]));
        ++i;
      }
      if (i < s.size() && (s[i] == 'u' || s[i] == 'U')) {
        ++i;  // uint literal: treated as int
      }
      out.push_back({is_double ? Token::kDouble : Token::kInt, s.substr(start, i - start), start});
      continue;
    }
    if (c == '\'' || c == '"') {
      size_t start = i++;
      std::string value;
      while (i < s.size() && s[i] != c) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          char e = s[++i];
          value += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        } else {
          value += s[i];
        }
        ++i;
      }
      if (i >= s.size()) {
        return absl::InvalidArgumentError(absl::StrCat("unterminated string at offset ", start));
      }
      ++i;
      out.push_back({Token::kString, value, start});
      continue;
    }
    bool matched = false;
    for (const std::string& op : kOps) {
      if (s.compare(i, op.size(), op) == 0) {
        out.push_back({Token::kOp, op, i});
        i += op.size();
        matched = true;
        break;
      }
    }
    if (!matched) {
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported character '", std::string(1, c), "' at offset ", i));
    }
  }
  out.push_back({Token::kEnd, "", s.size()});
  return out;
}

const std::set<std::string> kGlobalFunctions = {"size", "int", "string", "double"};
const std::set<std::string> kMethods = {"size",    "startsWith", "endsWith",   "contains",
                                        "matches", "lowerAscii", "upperAscii", "trim"};
const std::set<std::string> kMacros = {"all", "exists", "exists_one", "filter", "map"};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  absl::StatusOr<NodeP> ParseAll() {
    NodeP n = Expr();
    if (error_.empty() && Peek().kind != Token::kEnd) {
      Fail(absl::StrCat("unexpected '", Peek().text, "'"));
    }
    if (!error_.empty()) {
      return absl::InvalidArgumentError(error_);
    }
    return n;
  }
  bool uses_old_self = false;

 private:
  const Token& Peek() const { return t_[i_]; }
  bool IsOp(const std::string& op) const { return Peek().kind == Token::kOp && Peek().text == op; }
  bool Accept(const std::string& op) {
    if (IsOp(op)) {
      ++i_;
      return true;
    }
    return false;
  }
  void Expect(const std::string& op) {
    if (!Accept(op)) {
      Fail(absl::StrCat("expected '", op, "'"));
    }
  }
  void Fail(const std::string& why) {
    if (error_.empty()) {
      error_ = absl::StrCat(why, " at offset ", Peek().pos);
    }
    i_ = t_.size() - 1;  // jump to the end token
  }
  static NodeP Make(Node::Kind kind, std::string name, std::vector<NodeP> args) {
    auto n = std::make_shared<Node>();
    n->kind = kind;
    n->name = std::move(name);
    n->args = std::move(args);
    return n;
  }

  NodeP Expr() {
    NodeP cond = Or();
    if (Accept("?")) {
      NodeP a = Expr();
      Expect(":");
      NodeP b = Expr();
      return Make(Node::kTernary, "?", {cond, a, b});
    }
    return cond;
  }
  NodeP Or() {
    NodeP l = And();
    while (Accept("||")) {
      l = Make(Node::kBinary, "||", {l, And()});
    }
    return l;
  }
  NodeP And() {
    NodeP l = Rel();
    while (Accept("&&")) {
      l = Make(Node::kBinary, "&&", {l, Rel()});
    }
    return l;
  }
  NodeP Rel() {
    NodeP l = Add();
    for (;;) {
      std::string op;
      for (const char* candidate : {"==", "!=", "<=", ">=", "<", ">"}) {
        if (IsOp(candidate)) {
          op = candidate;
        }
      }
      if (op.empty() && Peek().kind == Token::kIdent && Peek().text == "in") {
        op = "in";
      }
      if (op.empty()) {
        return l;
      }
      ++i_;
      l = Make(Node::kBinary, op, {l, Add()});
    }
  }
  NodeP Add() {
    NodeP l = Mul();
    while (IsOp("+") || IsOp("-")) {
      std::string op = t_[i_++].text;
      l = Make(Node::kBinary, op, {l, Mul()});
    }
    return l;
  }
  NodeP Mul() {
    NodeP l = Unary();
    while (IsOp("*") || IsOp("/") || IsOp("%")) {
      std::string op = t_[i_++].text;
      l = Make(Node::kBinary, op, {l, Unary()});
    }
    return l;
  }
  NodeP Unary() {
    if (Accept("!")) {
      return Make(Node::kUnary, "!", {Unary()});
    }
    if (Accept("-")) {
      return Make(Node::kUnary, "-", {Unary()});
    }
    return Member();
  }
  std::vector<NodeP> Args(const std::string& close) {
    std::vector<NodeP> args;
    if (Accept(close)) {
      return args;
    }
    do {
      args.push_back(Expr());
    } while (Accept(","));
    Expect(close);
    return args;
  }
  NodeP Member() {
    NodeP n = Primary();
    for (;;) {
      if (Accept(".")) {
        if (Peek().kind != Token::kIdent) {
          Fail("expected a field name");
          return n;
        }
        std::string field = t_[i_++].text;
        if (Accept("(")) {
          if (kMacros.count(field) > 0) {
            if (Peek().kind != Token::kIdent) {
              Fail(absl::StrCat(field, "() needs a variable name first"));
              return n;
            }
            std::string var = t_[i_++].text;
            Expect(",");
            NodeP body = Expr();
            Expect(")");
            NodeP m = Make(Node::kMacro, var, {n, body});
            m->macro = field;
            n = m;
          } else if (kMethods.count(field) > 0) {
            std::vector<NodeP> args = Args(")");
            args.insert(args.begin(), n);
            n = Make(Node::kMethod, field, args);
          } else {
            Fail(absl::StrCat("unsupported function ", field, "()"));
            return n;
          }
        } else {
          n = Make(Node::kSelect, field, {n});
        }
      } else if (Accept("[")) {
        NodeP idx = Expr();
        Expect("]");
        n = Make(Node::kIndex, "[]", {n, idx});
      } else {
        return n;
      }
    }
  }
  NodeP Primary() {
    const Token tok = Peek();
    auto lit = [&](json v) {
      ++i_;
      auto n = Make(Node::kLiteral, "", {});
      n->literal = std::move(v);
      return n;
    };
    switch (tok.kind) {
      case Token::kInt: {
        int64_t v = 0;
        std::string digits = tok.text;
        if (!digits.empty() && (digits.back() == 'u' || digits.back() == 'U')) {
          digits.pop_back();
        }
        if (!absl::SimpleAtoi(digits, &v)) {
          Fail("bad integer literal");
          return nullptr;
        }
        return lit(v);
      }
      case Token::kDouble: {
        double v = 0;
        if (!absl::SimpleAtod(tok.text, &v)) {
          Fail("bad number literal");
          return nullptr;
        }
        return lit(v);
      }
      case Token::kString:
        return lit(tok.text);
      case Token::kIdent: {
        if (tok.text == "true" || tok.text == "false") {
          return lit(tok.text == "true");
        }
        if (tok.text == "null") {
          return lit(nullptr);
        }
        ++i_;
        if (Accept("(")) {
          if (tok.text == "has") {
            NodeP arg = Expr();
            Expect(")");
            if (arg == nullptr || arg->kind != Node::kSelect) {
              Fail("has() needs a field selection like has(self.field)");
              return nullptr;
            }
            return Make(Node::kHas, "has", {arg});
          }
          if (kGlobalFunctions.count(tok.text) == 0) {
            Fail(absl::StrCat("unsupported function ", tok.text, "()"));
            return nullptr;
          }
          return Make(Node::kCall, tok.text, Args(")"));
        }
        if (tok.text == "oldSelf") {
          uses_old_self = true;
        }
        return Make(Node::kIdent, tok.text, {});
      }
      case Token::kOp:
        if (Accept("(")) {
          NodeP e = Expr();
          Expect(")");
          return e;
        }
        if (Accept("[")) {
          return Make(Node::kList, "[]", Args("]"));
        }
        if (Accept("{")) {
          std::vector<NodeP> kv;
          if (!Accept("}")) {
            do {
              kv.push_back(Expr());
              Expect(":");
              kv.push_back(Expr());
            } while (Accept(","));
            Expect("}");
          }
          return Make(Node::kMap, "{}", kv);
        }
        break;
      case Token::kEnd:
        break;
    }
    Fail(absl::StrCat("unexpected '", tok.text, "'"));
    return nullptr;
  }

  std::vector<Token> t_;
  size_t i_ = 0;
  std::string error_;
};

using Env = std::map<std::string, const json*>;
using Result = absl::StatusOr<json>;

absl::Status Err(const std::string& msg) { return absl::InvalidArgumentError(msg); }

std::string TypeName(const json& v) {
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_number_float()) return "double";
  if (v.is_number()) return "int";
  if (v.is_array()) return "list";
  if (v.is_object()) return "map";
  return "null_type";
}

size_t Utf8Length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    n += (c & 0xC0) != 0x80 ? 1 : 0;
  }
  return n;
}

Result Eval(const Node& n, const Env& env);

Result NoOverload(const std::string& fn, const json& a) {
  return Err(absl::StrCat("no such overload: ", fn, "(", TypeName(a), ")"));
}

Result Compare(const std::string& op, const json& a, const json& b) {
  if (op == "==")
    return a == b || (a.is_number() && b.is_number() && a.get<double>() == b.get<double>());
  if (op == "!=")
    return !(a == b || (a.is_number() && b.is_number() && a.get<double>() == b.get<double>()));
  int cmp = 0;
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>();
    double y = b.get<double>();
    cmp = x < y ? -1 : x > y ? 1 : 0;
  } else if (a.is_string() && b.is_string()) {
    cmp = a.get<std::string>().compare(b.get<std::string>());
  } else if (a.is_boolean() && b.is_boolean()) {
    cmp = static_cast<int>(a.get<bool>()) - static_cast<int>(b.get<bool>());
  } else {
    return Err(absl::StrCat("no such overload: ", TypeName(a), " ", op, " ", TypeName(b)));
  }
  if (op == "<") return cmp < 0;
  if (op == "<=") return cmp <= 0;
  if (op == ">") return cmp > 0;
  return cmp >= 0;
}

Result Arith(const std::string& op, const json& a, const json& b) {
  if (op == "+" && a.is_string() && b.is_string()) {
    return a.get<std::string>() + b.get<std::string>();
  }
  if (op == "+" && a.is_array() && b.is_array()) {
    json out = a;
    for (const json& v : b) out.push_back(v);
    return out;
  }
  if (a.is_number_integer() && b.is_number_integer()) {
    int64_t x = a.get<int64_t>();
    int64_t y = b.get<int64_t>();
    if ((op == "/" || op == "%") && y == 0) return Err("division by zero");
    if (op == "+") return x + y;
    if (op == "-") return x - y;
    if (op == "*") return x * y;
    if (op == "/") return x / y;
    return x % y;
  }
  if (a.is_number() && b.is_number() && op != "%") {
    double x = a.get<double>();
    double y = b.get<double>();
    if (op == "+") return x + y;
    if (op == "-") return x - y;
    if (op == "*") return x * y;
    return x / y;
  }
  return Err(absl::StrCat("no such overload: ", TypeName(a), " ", op, " ", TypeName(b)));
}

Result EvalMacro(const Node& n, const Env& env) {
  Result target = Eval(*n.args[0], env);
  if (!target.ok()) return target;
  std::vector<json> items;
  if (target->is_array()) {
    items.assign(target->begin(), target->end());
  } else if (target->is_object()) {
    for (auto it = target->begin(); it != target->end(); ++it) items.push_back(it.key());
  } else {
    return NoOverload(n.macro, *target);
  }
  json out = json::array();
  int count = 0;
  std::optional<absl::Status> error;
  for (const json& item : items) {
    Env inner = env;
    inner[n.name] = &item;
    Result r = Eval(*n.args[1], inner);
    if (n.macro == "map") {
      if (!r.ok()) return r;
      out.push_back(*r);
      continue;
    }
    if (!r.ok()) {
      error = r.status();
      continue;
    }
    if (!r->is_boolean()) return Err(absl::StrCat(n.macro, "() predicate must be a bool"));
    bool b = r->get<bool>();
    if (n.macro == "all" && !b) return false;
    if (n.macro == "exists" && b) return true;
    if (b) {
      ++count;
      if (n.macro == "filter") out.push_back(item);
    }
  }
  if (error.has_value() && n.macro != "filter") return *error;
  if (n.macro == "all") return true;
  if (n.macro == "exists") return false;
  if (n.macro == "exists_one") return count == 1;
  return out;
}

Result EvalMethod(const Node& n, const Env& env) {
  std::vector<json> args;
  for (const auto& a : n.args) {
    Result r = Eval(*a, env);
    if (!r.ok()) return r;
    args.push_back(std::move(*r));
  }
  const json& self = args[0];
  const std::string& fn = n.name;
  if (fn == "size") {
    if (self.is_string()) return static_cast<int64_t>(Utf8Length(self.get<std::string>()));
    if (self.is_array() || self.is_object()) return static_cast<int64_t>(self.size());
    return NoOverload(fn, self);
  }
  if (!self.is_string()) return NoOverload(fn, self);
  const std::string s = self.get<std::string>();
  if (fn == "lowerAscii") return absl::AsciiStrToLower(s);
  if (fn == "upperAscii") return absl::AsciiStrToUpper(s);
  if (fn == "trim") return std::string(absl::StripAsciiWhitespace(s));
  if (args.size() != 2 || !args[1].is_string()) return Err(absl::StrCat(fn, "() needs one string"));
  const std::string arg = args[1].get<std::string>();
  if (fn == "startsWith") return absl::StartsWith(s, arg);
  if (fn == "endsWith") return absl::EndsWith(s, arg);
  if (fn == "contains") return absl::StrContains(s, arg);
  try {
    return std::regex_search(s, std::regex(arg));  // matches: RE2 search semantics
  } catch (const std::regex_error&) {
    return Err(absl::StrCat("invalid regular expression ", arg));
  }
}

Result EvalCall(const Node& n, const Env& env) {
  if (n.args.size() != 1) return Err(absl::StrCat(n.name, "() takes one argument"));
  Result a = Eval(*n.args[0], env);
  if (!a.ok()) return a;
  if (n.name == "size") {
    if (a->is_string()) return static_cast<int64_t>(Utf8Length(a->get<std::string>()));
    if (a->is_array() || a->is_object()) return static_cast<int64_t>(a->size());
    return NoOverload("size", *a);
  }
  if (n.name == "int") {
    if (a->is_number()) return static_cast<int64_t>(a->get<double>());
    int64_t v = 0;
    if (a->is_string() && absl::SimpleAtoi(a->get<std::string>(), &v)) return v;
    return NoOverload("int", *a);
  }
  if (n.name == "double") {
    if (a->is_number()) return a->get<double>();
    double v = 0;
    if (a->is_string() && absl::SimpleAtod(a->get<std::string>(), &v)) return v;
    return NoOverload("double", *a);
  }
  // string()
  if (a->is_string()) return *a;
  if (a->is_boolean()) return std::string(a->get<bool>() ? "true" : "false");
  if (a->is_number()) return a->dump();
  return NoOverload("string", *a);
}

Result Eval(const Node& n, const Env& env) {
  switch (n.kind) {
    case Node::kLiteral:
      return n.literal;
    case Node::kIdent: {
      auto it = env.find(n.name);
      if (it == env.end() || it->second == nullptr) {
        return Err(absl::StrCat("undeclared reference to '", n.name, "'"));
      }
      return *it->second;
    }
    case Node::kSelect:
    case Node::kHas: {
      const Node& sel = n.kind == Node::kHas ? *n.args[0] : n;
      Result target = Eval(*sel.args[0], env);
      if (!target.ok()) return target;
      if (!target->is_object()) {
        return Err(absl::StrCat("no such key: ", sel.name));
      }
      bool present = target->contains(sel.name);
      if (n.kind == Node::kHas) return present;
      if (!present) return Err(absl::StrCat("no such key: ", sel.name));
      return (*target)[sel.name];
    }
    case Node::kIndex: {
      Result target = Eval(*n.args[0], env);
      if (!target.ok()) return target;
      Result idx = Eval(*n.args[1], env);
      if (!idx.ok()) return idx;
      if (target->is_array() && idx->is_number_integer()) {
        int64_t i = idx->get<int64_t>();
        if (i < 0 || i >= static_cast<int64_t>(target->size())) {
          return Err(absl::StrCat("index out of bounds: ", i));
        }
        return (*target)[static_cast<size_t>(i)];
      }
      if (target->is_object() && idx->is_string()) {
        std::string key = idx->get<std::string>();
        if (!target->contains(key)) return Err(absl::StrCat("no such key: ", key));
        return (*target)[key];
      }
      return Err(absl::StrCat("no such overload: ", TypeName(*target), "[", TypeName(*idx), "]"));
    }
    case Node::kCall:
      return EvalCall(n, env);
    case Node::kMethod:
      return EvalMethod(n, env);
    case Node::kMacro:
      return EvalMacro(n, env);
    case Node::kUnary: {
      Result v = Eval(*n.args[0], env);
      if (!v.ok()) return v;
      if (n.name == "!") {
        if (!v->is_boolean()) return NoOverload("!_", *v);
        return !v->get<bool>();
      }
      if (v->is_number_integer()) return -v->get<int64_t>();
      if (v->is_number()) return -v->get<double>();
      return NoOverload("-_", *v);
    }
    case Node::kTernary: {
      Result c = Eval(*n.args[0], env);
      if (!c.ok()) return c;
      if (!c->is_boolean()) return Err("the condition of ?: must be a bool");
      return Eval(*n.args[c->get<bool>() ? 1 : 2], env);
    }
    case Node::kList: {
      json out = json::array();
      for (const auto& a : n.args) {
        Result r = Eval(*a, env);
        if (!r.ok()) return r;
        out.push_back(*r);
      }
      return out;
    }
    case Node::kMap: {
      json out = json::object();
      for (size_t i = 0; i + 1 < n.args.size(); i += 2) {
        Result k = Eval(*n.args[i], env);
        if (!k.ok()) return k;
        Result v = Eval(*n.args[i + 1], env);
        if (!v.ok()) return v;
        if (!k->is_string()) return Err("map keys must be strings here");
        out[k->get<std::string>()] = *v;
      }
      return out;
    }
    case Node::kBinary:
      break;
  }
  const std::string& op = n.name;
  if (op == "&&" || op == "||") {
    bool short_value = op == "||";  // the value that decides alone
    Result l = Eval(*n.args[0], env);
    if (l.ok() && l->is_boolean() && l->get<bool>() == short_value) return short_value;
    Result r = Eval(*n.args[1], env);
    if (r.ok() && r->is_boolean() && r->get<bool>() == short_value) return short_value;
    if (!l.ok()) return l;
    if (!r.ok()) return r;
    if (!l->is_boolean() || !r->is_boolean()) return Err(absl::StrCat("no such overload: ", op));
    return !short_value;
  }
  Result l = Eval(*n.args[0], env);
  if (!l.ok()) return l;
  Result r = Eval(*n.args[1], env);
  if (!r.ok()) return r;
  if (op == "in") {
    if (r->is_array()) {
      for (const json& v : *r) {
        Result eq = Compare("==", *l, v);
        if (eq.ok() && eq->get<bool>()) return true;
      }
      return false;
    }
    if (r->is_object() && l->is_string()) return r->contains(l->get<std::string>());
    return Err(absl::StrCat("no such overload: ", TypeName(*l), " in ", TypeName(*r)));
  }
  if (op == "+" || op == "-" || op == "*" || op == "/" || op == "%") return Arith(op, *l, *r);
  return Compare(op, *l, *r);
}

}  // namespace

absl::StatusOr<Program> Program::Compile(const std::string& expression) {
  auto tokens = Tokenize(expression);
  if (!tokens.ok()) return tokens.status();
  Parser parser(std::move(*tokens));
  auto root = parser.ParseAll();
  if (!root.ok()) return root.status();
  Program p;
  p.root_ = *root;
  p.uses_old_self_ = parser.uses_old_self;
  return p;
}

absl::StatusOr<json> Program::Eval(const json& self, const json* old_self) const {
  Env env;
  env["self"] = &self;
  if (old_self != nullptr) {
    env["oldSelf"] = old_self;
  }
  return cel::Eval(*root_, env);
}

}  // namespace kustodian::kubeapi::cel
