import { useEffect, useState } from "preact/hooks";

export type Route =
  | { page: "login" }
  | { page: "usage" }
  | { page: "live" }
  | { page: "instances" }
  | { page: "instance"; id: string }
  | { page: "providers" }
  | { page: "audit" };

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case "login":
      return { page: "login" };
    case "live":
      return { page: "live" };
    case "instances":
      return parts[1] ? { page: "instance", id: parts[1] } : { page: "instances" };
    case "providers":
      return { page: "providers" };
    case "audit":
      return { page: "audit" };
    default:
      return { page: "usage" };
  }
}

export function hrefFor(route: Route): string {
  return route.page === "instance" ? `#/instances/${encodeURIComponent(route.id)}` : `#/${route.page}`;
}

export function navigate(route: Route): void {
  location.hash = hrefFor(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
